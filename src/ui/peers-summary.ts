/** One line on who is in the session and what they do, for the projector (the full peers table is further down). */
import type { PeerStatus, PeerView } from '../session/types';
import { PEER_STATUS_TEXT } from './peer-status';

/** The order statuses are listed in: what the class is doing first, problems after. */
const ORDER: PeerStatus[] = ['training', 'evaluating', 'uploaded', 'idle', 'no-data', 'missing', 'left-out', 'left'];

/** e.g. "5 devices: 3 training, 1 update sent, 1 no data yet"; the aggregating tab counts only when it trains. */
export function peersSummary(peers: readonly Pick<PeerView, 'status' | 'isAggregator' | 'numSamples'>[]): string {
  const present = peers.filter((p) => p.status !== 'left' && !(p.isAggregator && p.numSamples === 0));
  if (present.length === 0) return 'no devices yet';
  const counts = new Map<PeerStatus, number>();
  for (const p of present) counts.set(p.status, (counts.get(p.status) ?? 0) + 1);
  const parts = ORDER.filter((s) => counts.has(s)).map((s) => `${counts.get(s)} ${PEER_STATUS_TEXT[s]}`);
  return `${present.length} device${present.length === 1 ? '' : 's'}: ${parts.join(', ')}`;
}

/** The address to type on a device that cannot scan the QR code: the app's address on the LAN (then code and passphrase). */
export function addressToType(primaryLink: string): string {
  try {
    // With its scheme: a browser completes a bare address with http://, which the HTTPS mode does not answer.
    const url = new URL(primaryLink);
    return url.pathname === '/' ? url.origin : `${url.origin}${url.pathname}`;
  } catch {
    return primaryLink;
  }
}
