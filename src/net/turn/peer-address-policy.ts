/**
 * Which peer addresses a TURN allocation may relay to. Classroom peers are on private LANs, so private ranges are
 * allowed; loopback, "this network", link-local, multicast and reserved/broadcast addresses never are (a relay must
 * not become a way into the server's own loopback services), nor the relay's own listening port.
 */
export function isRelayablePeer(address: string, port: number, ownListenPort: number, ownAddresses: ReadonlySet<string>, allowLoopback = false): boolean {
  const parts = address.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return false;
  const [a, b] = parts;
  if (a === 0 || (a === 127 && !allowLoopback) || a >= 224) return false;
  if (a === 169 && b === 254) return false;
  if (port === 0) return false;
  if (port === ownListenPort && ownAddresses.has(address)) return false;
  return true;
}
