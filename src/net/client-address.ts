/**
 * The address a request comes from, for the signalling server's per-address limits. Behind a reverse proxy every
 * request arrives from the proxy; when the direct peer is one of the proxies the deployment names as trusted, the
 * address is the last one in X-Forwarded-For that is not itself a trusted proxy (what the proxy saw, which a client
 * cannot forge: a client may prepend anything to the header, but the trusted proxy appends the address it saw last).
 * From any other peer the header is ignored: anyone can send it.
 */
import type http from 'node:http';
import net from 'node:net';

export type ClientAddress = (req: http.IncomingMessage) => string | undefined;

/** ::ffff:10.0.0.1 (an IPv4 address on a dual-stack socket) is 10.0.0.1. */
function unmapped(address: string): string {
  return address.startsWith('::ffff:') && net.isIPv4(address.slice(7)) ? address.slice(7) : address;
}

/** Throws naming the entry that is not an IP address. */
export function clientAddressResolver(trustedProxies: readonly string[]): ClientAddress {
  for (const p of trustedProxies) if (net.isIP(p) === 0) throw new Error(`trusted proxy "${p}" is not an IP address`);
  const trusted = new Set(trustedProxies.map(unmapped));
  return (req) => {
    const direct = req.socket.remoteAddress === undefined ? undefined : unmapped(req.socket.remoteAddress);
    if (direct === undefined || !trusted.has(direct)) return direct;
    const header = req.headers['x-forwarded-for'];
    const hops = (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',').map((h) => unmapped(h.trim()));
    for (let i = hops.length - 1; i >= 0; i--) {
      if (net.isIP(hops[i]) === 0) return direct; // a hop the proxy wrote cannot be malformed: trust nothing in it
      if (!trusted.has(hops[i])) return hops[i];
    }
    return direct;
  };
}
