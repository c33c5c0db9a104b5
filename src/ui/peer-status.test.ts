import { describe, expect, it } from 'vitest';
import { peerStatusLine, peerStatusTone } from './peer-status';

describe('peer status line', () => {
  it('says what a peer does, for how long and why it was left out', () => {
    // Asked to train, no progress reported yet.
    expect(peerStatusLine({ status: 'training', statusRound: 5, statusSince: 1_000, statusDetail: null }, 13_400)).toBe('starting round 5 · 12.0 s');
    expect(peerStatusLine({ status: 'training', statusRound: 5, statusSince: 1_000, statusProgress: 0.4 }, 13_400)).toBe('training round 5 · 40% · 12.0 s');
    expect(peerStatusLine({ status: 'training', statusRound: 5, statusProgress: 0.999 }, 0)).toBe('training round 5 · 99%');
    expect(peerStatusLine({ status: 'training', statusRound: 5, statusProgress: null }, 0)).toBe('starting round 5');
    expect(peerStatusLine({ status: 'training', statusRound: 5, statusProgress: 0 }, 0)).toBe('training round 5 · 0%');
    expect(peerStatusLine({ status: 'uploaded', statusRound: 5, statusDetail: null }, 0)).toBe('update sent (round 5)');
    expect(peerStatusLine({ status: 'uploaded', statusRound: 5, statusDetail: 'clipped: update norm 3.2 clipped to 1.1 (34% of it went in)' }, 0)).toBe(
      'update sent (round 5) · clipped: update norm 3.2 clipped to 1.1 (34% of it went in)',
    );
    expect(peerStatusLine({ status: 'left-out', statusRound: 7, statusDetail: 'points away from the others (cosine -0.40)' }, 0)).toBe('left out of round 7: points away from the others (cosine -0.40)');
    expect(peerStatusLine({ status: 'missing', statusRound: 4, statusDetail: 'no update in time for round 4' }, 0)).toBe('missing in round 4: no update in time for round 4');
    expect(peerStatusLine({ status: 'left-out', statusRound: 3, statusDetail: 'your data has 3 features' }, 0)).toBe('left out of round 3: your data has 3 features');
    expect(peerStatusLine({ status: 'idle', statusDetail: 'not selected for round 2' }, 0)).toBe('waiting (not selected for round 2)');
    expect(peerStatusLine({ status: 'no-data' }, 0)).toBe('no data yet');
  });

  it('gives problems their own tone', () => {
    expect(peerStatusTone('left-out')).toBe('problem');
    expect(peerStatusTone('uploaded')).toBe('ok');
    expect(peerStatusTone('training')).toBe('busy');
  });
});
