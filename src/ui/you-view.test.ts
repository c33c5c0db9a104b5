import { describe, expect, it } from 'vitest';
import { contributionText, roundFraction, youHeadline } from './you-view';

const base = { progress: null, localEpochs: 1, sessionStatus: 'running' as const, hasData: true };

describe("the student's own panel", () => {
  it('says what this device does now, with the reason when it was left out', () => {
    expect(youHeadline({ ...base, self: { status: 'training', statusRound: 5 } })).toBe('Training round 5');
    expect(youHeadline({ ...base, self: { status: 'uploaded', statusRound: 5 } })).toBe('Your update for round 5 was sent');
    expect(youHeadline({ ...base, self: { status: 'left-out', statusRound: 2, statusDetail: 'your data has 3 features' } })).toBe('Left out of round 2: your data has 3 features');
    expect(youHeadline({ ...base, self: { status: 'idle' }, sessionStatus: 'lobby' })).toBe('Ready: waiting for the host to start.');
    expect(youHeadline({ ...base, self: null, hasData: false })).toMatch(/^No data/);
    // Rejoining after a reload: not "no data" (it comes back with the slot).
    expect(youHeadline({ ...base, self: null, hasData: false, sessionStatus: 'connecting' })).toBe('Connecting to the session…');
  });

  it('says when the run stopped or finished, and what the next round waits for, from the session record', () => {
    expect(youHeadline({ ...base, self: { status: 'uploaded', statusRound: 4 }, sessionStatus: 'lobby', phase: 'stopped', finishedRounds: 4 })).toBe('The host stopped the run after round 4.');
    expect(youHeadline({ ...base, self: { status: 'uploaded', statusRound: 6 }, sessionStatus: 'finished', phase: 'finished', finishedRounds: 6 })).toBe('The run is finished.');
    expect(youHeadline({ ...base, self: { status: 'idle' }, phase: 'waiting', waitingFor: '1 of 2 clients have data' })).toBe('Ready: the next round waits until 1 of 2 clients have data.');
  });

  it('measures the round done over all local epochs', () => {
    expect(roundFraction({ round: 1, epoch: 0, batch: 5, batchesPerEpoch: 10, loss: 1, samplesPerSecond: 1 }, 2)).toBeCloseTo(0.25);
    expect(roundFraction({ round: 1, epoch: 1, batch: 10, batchesPerEpoch: 10, loss: 1, samplesPerSecond: 1 }, 2)).toBe(1);
  });

  it('counts the rounds this device contributed to', () => {
    expect(contributionText([1, 2, 4], 5)).toBe('Your updates went into 3 of 5 rounds (1, 2, 4).');
    expect(contributionText([], 0)).toBe('No round has finished yet.');
  });
});
