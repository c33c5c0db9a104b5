/** Plain-language status of a peer for the peers table (display only; the status itself comes from the controller). */
import type { PeerStatus, PeerView } from '../session/types';
import { formatDuration, formatShareDone } from './format';

export const PEER_STATUS_TEXT: Record<PeerStatus, string> = {
  idle: 'waiting',
  training: 'training',
  uploaded: 'update sent',
  evaluating: 'evaluating',
  missing: 'missing',
  'left-out': 'left out',
  'no-data': 'no data yet',
  left: 'left',
};

/** Tone of a status, for its colour: ok, busy, problem or plain. */
export function peerStatusTone(status: PeerStatus): 'ok' | 'busy' | 'problem' | 'plain' {
  switch (status) {
    case 'uploaded':
      return 'ok';
    case 'training':
    case 'evaluating':
      return 'busy';
    case 'missing':
    case 'left-out':
      return 'problem';
    default:
      return 'plain';
  }
}

/**
 * The status line, e.g. "starting round 5 · 2 s" (asked, no progress reported yet), "training round 5 · 40% · 12 s",
 * "update sent (round 5)", "missing in round 4",
 * "left out of round 3: your data has 3 features…". `now` in ms since the epoch.
 */
export function peerStatusLine(p: Pick<PeerView, 'status' | 'statusDetail' | 'statusSince' | 'statusRound' | 'statusProgress'>, now: number): string {
  const round = p.statusRound && p.statusRound > 0 ? p.statusRound : null;
  const elapsed = p.statusSince !== undefined && p.statusSince > 0 && now >= p.statusSince ? ` · ${formatDuration(Math.floor((now - p.statusSince) / 1000) * 1000)}` : '';
  switch (p.status) {
    case 'training': {
      // Asked to train, but no progress reported yet (still receiving the model, or a throttled background tab).
      if (typeof p.statusProgress !== 'number') return `starting${round ? ` round ${round}` : ''}${elapsed}`;
      return `training${round ? ` round ${round}` : ''} · ${formatShareDone(p.statusProgress)}${elapsed}`;
    }
    case 'evaluating':
      return `evaluating${round ? ` round ${round}` : ''}${elapsed}`;
    case 'uploaded':
      // The detail, when any, says how the aggregator's defence scaled the update down ("clipped: ...").
      return `update sent${round ? ` (round ${round})` : ''}${p.statusDetail ? ` · ${p.statusDetail}` : ''}`;
    case 'missing':
      return `missing${round ? ` in round ${round}` : ''}${p.statusDetail ? `: ${p.statusDetail}` : ''}`;
    case 'left-out':
      return `left out${round ? ` of round ${round}` : ''}${p.statusDetail ? `: ${p.statusDetail}` : ''}`;
    case 'idle':
      return p.statusDetail ? `waiting (${p.statusDetail})` : 'waiting';
    default:
      return PEER_STATUS_TEXT[p.status];
  }
}
