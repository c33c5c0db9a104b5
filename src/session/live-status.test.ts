import { describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION, type Message } from '../fl/protocol';
import { mlpSpec } from '../fl/model-spec';
import { LiveStatusTracker } from './live-status';

const v = PROTOCOL_VERSION;
const spec = mlpSpec([4], 2, []);
const roundStart = (round: number): Message => ({ type: 'round-start', v, version: round - 1, assignment: round, model: spec, strategy: { name: 'fedavg' }, train: { localEpochs: 1, batchSize: 8, learningRate: 0.1, seed: 1 }, weights: [] });
const update = (round: number): Message => ({ type: 'update', v, assignment: round, delta: [], numSamples: 10, metrics: { trainLoss: 1, evalLoss: 1, evalAccuracy: 0.5, trainMs: 5, samplesPerSecond: 1 } });

describe('live status on the aggregating tab', () => {
  it('follows each peer through a round: training, update sent, missing, left out with its reason', () => {
    let now = 1000;
    const t = new LiveStatusTracker(() => now);
    for (const id of ['a', 'b', 'c']) t.sent(id, roundStart(1));
    expect(t.view('a', 10)).toMatchObject({ status: 'training', round: 1, since: 1000 });
    expect(t.activeRound).toBe(1);
    now = 2000;
    t.received('a', update(1));
    t.received('c', { type: 'error', v, reason: 'your data has 3 features, the model expects 784' });
    expect(t.view('a', 10)).toMatchObject({ status: 'uploaded', round: 1, since: 2000 });
    expect(t.view('b', 10).status).toBe('training');
    expect(t.view('c', 10)).toMatchObject({ status: 'left-out', detail: 'your data has 3 features, the model expects 784' });
    t.roundsFinished([{ round: 1, participants: ['a'], missing: ['b', 'c'] }]);
    expect(t.view('b', 10)).toMatchObject({ status: 'missing', round: 1 });
    // The reason a client gave is kept, not overwritten by "missing".
    expect(t.view('c', 10).status).toBe('left-out');
    expect(t.activeRound).toBeNull();
  });

  it("shows what the aggregator's defence did: left out with the reason, or the update's share that went in", () => {
    const t = new LiveStatusTracker();
    for (const id of ['a', 'b', 'c']) t.sent(id, roundStart(7));
    for (const id of ['a', 'b', 'c']) t.received(id, update(7));
    const reason = 'points away from the others (cosine -0.40 with the round\'s median update)';
    t.roundsFinished([
      {
        round: 7,
        participants: ['a', 'b'],
        missing: ['c'],
        screening: [
          { clientId: 'c', action: 'left-out', reason },
          { clientId: 'b', action: 'clipped', reason: 'update norm 3.2 clipped to 1.1 (34% of it went in)' },
          { clientId: 'b', action: 'capped', reason: 'sample count 5000 capped to 620 (its weight in the mean)' },
        ],
      },
    ]);
    // Not "missing": its update arrived and was left out, and the user reads why.
    expect(t.view('c', 10)).toMatchObject({ status: 'left-out', round: 7, detail: reason });
    expect(t.view('b', 10)).toMatchObject({
      status: 'uploaded',
      round: 7,
      detail: 'clipped: update norm 3.2 clipped to 1.1 (34% of it went in); weight capped: sample count 5000 capped to 620 (its weight in the mean)',
    });
    expect(t.view('a', 10)).toMatchObject({ status: 'uploaded', detail: null });
  });

  it('a peer not asked in the running round is idle (or has no data), not "update sent" from an old round', () => {
    const t = new LiveStatusTracker();
    t.sent('a', roundStart(1));
    t.received('a', update(1));
    t.roundsFinished([{ round: 1, participants: ['a'], missing: [] }]);
    t.sent('b', roundStart(2));
    expect(t.view('a', 10)).toMatchObject({ status: 'idle', detail: 'not selected for round 2' });
    expect(t.view('z', 0).status).toBe('no-data');
    // Nothing happened to a peer: the same view twice, however the clock moves (so the UI can skip the render).
    let now = 0;
    const ticking = new LiveStatusTracker(() => ++now);
    expect(ticking.view('z', 3)).toEqual(ticking.view('z', 3));
    t.left('b');
    expect(t.view('b', 10).status).toBe('left');
  });

  it('shows the share of training a peer reported while it trains that round, keeping when the training began', () => {
    let now = 1000;
    const t = new LiveStatusTracker(() => now);
    t.sent('a', roundStart(2));
    now = 5000;
    t.progress('a', 2, 0.4);
    expect(t.view('a', 10)).toMatchObject({ status: 'training', round: 2, since: 1000, fraction: 0.4 });
    t.progress('a', 1, 0.9); // another round
    t.progress('b', 2, 0.9); // not asked to train
    expect(t.view('a', 10).fraction).toBe(0.4);
    expect(t.view('b', 10).fraction).toBeUndefined();
    t.received('a', update(2));
    t.progress('a', 2, 0.95); // late, after its update
    expect(t.view('a', 10)).toMatchObject({ status: 'uploaded', round: 2 });
    expect(t.view('a', 10).fraction).toBeUndefined();
    t.sent('a', roundStart(3));
    expect(t.view('a', 10).fraction).toBeUndefined();
  });

  it("counts this tab's own contributions from its updates and from the rounds that list it", () => {
    const t = new LiveStatusTracker();
    t.selfId = 'me';
    t.setSelf('me', 'training', 1);
    expect(t.view('me', 5).status).toBe('training');
    t.roundsFinished([{ round: 1, participants: ['me'], missing: [] }]);
    expect(t.view('me', 5).status).toBe('uploaded');
    t.received('agg', roundStart(2));
    t.sent('agg', update(2));
    expect(t.selfContributions).toEqual([1, 2]);
  });
});

describe('live status on a client tab', () => {
  it('knows the running round from round-start and the finished ones from results, rosters and welcomes', () => {
    const t = new LiveStatusTracker();
    t.received('agg', { type: 'roster', v, term: 1, aggregatorId: 'agg', round: 3, peers: [] });
    expect(t.marks).toEqual({ started: 3, finished: 3 });
    expect(t.activeRound).toBeNull();
    t.received('agg', roundStart(4));
    expect(t.activeRound).toBe(4);
    t.received('agg', { type: 'round-result', v, round: 4, participants: 2, accuracy: 0.5, loss: 1, decomposition: null });
    expect(t.activeRound).toBeNull();
    expect(t.marks.finished).toBe(4);
  });

  it('marks itself left out when it tells the aggregator it cannot train', () => {
    const t = new LiveStatusTracker();
    t.selfId = 'me';
    t.received('agg', roundStart(1));
    t.sent('agg', { type: 'error', v, reason: 'no data' });
    expect(t.view('me', 0)).toMatchObject({ status: 'left-out', detail: 'no data', round: 1 });
  });
});
