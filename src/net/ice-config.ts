/**
 * ICE server settings typed by a user: STUN/TURN URLs, one per entry, with optional TURN credentials
 * written as `turn:USER:PASSWORD@HOST:PORT` (percent-encode '@' or ':' inside them).
 * The default is no ICE server at all: on a LAN, host candidates are enough and nothing leaves the network.
 */
const ICE_SCHEMES = ['stun', 'stuns', 'turn', 'turns'] as const;
type IceScheme = (typeof ICE_SCHEMES)[number];

function isIceScheme(value: string): value is IceScheme {
  return (ICE_SCHEMES as readonly string[]).includes(value);
}

const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?$/;

/** Parses one entry such as `stun:10.0.0.2:3478` or `turns:alice:s3cret@turn.example.org:5349?transport=tcp`. */
export function parseIceServer(spec: string): RTCIceServer {
  const text = spec.trim();
  const colon = text.indexOf(':');
  const scheme = colon < 0 ? '' : text.slice(0, colon).toLowerCase();
  if (!isIceScheme(scheme)) {
    throw new Error(`ICE server "${spec}": must start with one of ${ICE_SCHEMES.map((s) => `${s}:`).join(', ')}`);
  }
  let rest = text.slice(colon + 1);
  let query = '';
  const q = rest.indexOf('?');
  if (q >= 0) {
    query = rest.slice(q);
    rest = rest.slice(0, q);
  }
  let username: string | undefined;
  let credential: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    if (scheme.startsWith('stun')) throw new Error(`ICE server "${spec}": STUN servers take no credentials`);
    const userInfo = rest.slice(0, at);
    rest = rest.slice(at + 1);
    const sep = userInfo.indexOf(':');
    if (sep <= 0) throw new Error(`ICE server "${spec}": credentials must be written USER:PASSWORD@`);
    username = decodeURIComponent(userInfo.slice(0, sep));
    credential = decodeURIComponent(userInfo.slice(sep + 1));
  }
  const hostPort = HOST_PORT.exec(rest);
  if (!hostPort) throw new Error(`ICE server "${spec}": "${rest}" is not HOST or HOST:PORT`);
  if (hostPort[2] !== undefined) {
    const port = Number(hostPort[2]);
    if (port < 1 || port > 65535) throw new Error(`ICE server "${spec}": port ${port} is out of range 1-65535`);
  }
  if (query && !/^\?transport=(udp|tcp)$/.test(query)) {
    throw new Error(`ICE server "${spec}": the only query allowed is ?transport=udp or ?transport=tcp`);
  }
  if (scheme.startsWith('turn') && username === undefined) {
    throw new Error(`ICE server "${spec}": TURN servers need credentials, written turn:USER:PASSWORD@HOST:PORT`);
  }
  const server: RTCIceServer = { urls: `${scheme}:${rest}${query}` };
  if (username !== undefined) {
    server.username = username;
    server.credential = credential;
  }
  return server;
}

/** Parses entries separated by whitespace, commas or new lines; an empty text gives no servers. */
export function parseIceServers(text: string): RTCIceServer[] {
  return text
    .split(/[\s,]+/)
    .filter((entry) => entry.length > 0)
    .map(parseIceServer);
}
