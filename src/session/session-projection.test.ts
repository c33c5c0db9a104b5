import { describe, expect, it } from 'vitest';
import { appendLog } from './session-controller';
import { projectSession } from './session-projection';
import { missingForRound, SessionRecordKeeper, supersedes, type SessionRecord } from './session-record';

const record = (patch: Partial<SessionRecord>): SessionRecord => ({
  term: 1, seq: 1, phase: 'lobby', round: 0, runningRound: null, totalRounds: 10, reason: null, aggregatorId: 'h', withData: 2, needed: 2, inRound: [], ...patch,
});

describe('projectSession', () => {
  it('maps each phase to the status, rounds and stop flag every tab shows', () => {
    const at = (r: Partial<SessionRecord>, roundsKnown = 0) => projectSession({ record: record(r), connecting: false, roundsKnown, totalRounds: 10 });
    expect(at({ phase: 'lobby' })).toMatchObject({ status: 'lobby', currentRound: 0, runningRound: null, stopping: false, waitingFor: null });
    expect(at({ phase: 'running', round: 3, runningRound: 4 })).toMatchObject({ status: 'running', currentRound: 3, runningRound: 4, stopping: false });
    expect(at({ phase: 'stopping', round: 3, runningRound: 4 })).toMatchObject({ status: 'running', runningRound: 4, stopping: true });
    expect(at({ phase: 'stopped', round: 4, runningRound: 5 })).toMatchObject({ status: 'lobby', phase: 'stopped', currentRound: 4, runningRound: null, stopping: false });
    expect(at({ phase: 'waiting', round: 2, reason: '1 of 2 clients have data' })).toMatchObject({ status: 'running', runningRound: null, waitingFor: '1 of 2 clients have data' });
    expect(at({ phase: 'finished', round: 10, reason: '0 of 2 clients have data' })).toMatchObject({ status: 'finished', currentRound: 10, waitingFor: null, endedBecause: null });
    // Ended before its last round (a private session's budget): every tab says why.
    const spent = 'the privacy budget (epsilon 4, delta 0.00001) is spent: one more round would reach epsilon 4.210';
    expect(at({ phase: 'finished', round: 6, reason: spent })).toMatchObject({ status: 'finished', waitingFor: null, endedBecause: spent });
    // A round's result that reached the tab before the record that counts it.
    expect(at({ phase: 'running', round: 3, runningRound: 4 }, 4).currentRound).toBe(4);
  });

  it('without a record: connecting, or what the tab knows itself', () => {
    expect(projectSession({ record: null, connecting: true, roundsKnown: 0, totalRounds: null }).status).toBe('connecting');
    expect(projectSession({ record: null, connecting: false, roundsKnown: 2, totalRounds: 10 })).toMatchObject({ status: 'lobby', currentRound: 2, phase: null });
    expect(projectSession({ record: record({ phase: 'lobby' }), connecting: true, roundsKnown: 0, totalRounds: 10 }).status).toBe('connecting');
  });
});

describe('the session record', () => {
  it('says what a round lacks, bumps its sequence only on a change, and a newer term or sequence wins', () => {
    expect(missingForRound({ withData: 1, needed: 2 })).toBe('1 of 2 clients have data');
    expect(missingForRound({ withData: 3, needed: 2 })).toBeNull();
    const published: SessionRecord[] = [];
    const keeper = new SessionRecordKeeper({ term: 2, aggregatorId: 'h', phase: 'lobby', round: 0, totalRounds: 5, withData: 0, needed: 2 }, (r) => published.push(r));
    expect(keeper.record).toMatchObject({ seq: 1, reason: '0 of 2 clients have data' });
    keeper.update({ withData: 0 });
    expect(published).toHaveLength(0);
    keeper.update({ withData: 2 });
    keeper.update({ phase: 'running', runningRound: 1, inRound: ['a', 'b'] });
    keeper.update({ inRound: ['a', 'b'] });
    expect(published.map((r) => [r.seq, r.phase, r.reason])).toEqual([
      [2, 'lobby', null],
      [3, 'running', null],
    ]);
    expect(supersedes(record({ term: 1, seq: 5 }), record({ term: 1, seq: 4 }))).toBe(true);
    expect(supersedes(record({ term: 1, seq: 4 }), record({ term: 1, seq: 4 }))).toBe(false);
    expect(supersedes(record({ term: 2, seq: 1 }), record({ term: 1, seq: 9 }))).toBe(true);
    expect(supersedes(record({ term: 1, seq: 9 }), record({ term: 2, seq: 1 }))).toBe(false);
  });
});

describe('appendLog', () => {
  it('counts a repeated line instead of adding it again, and moves it to the end', () => {
    let log = appendLog([], { time: 1, level: 'info', text: 'session created' });
    for (let t = 2; t <= 38; t++) log = appendLog(log, { time: t, level: 'warn', text: 'round 1 not run: 1 clients with data connected, 2 needed' });
    log = appendLog(log, { time: 39, level: 'info', text: 'Ben joined' });
    log = appendLog(log, { time: 40, level: 'warn', text: 'round 1 not run: 1 clients with data connected, 2 needed' });
    expect(log.map((e) => [e.text, e.count ?? 1, e.time])).toEqual([
      ['session created', 1, 1],
      ['Ben joined', 1, 39],
      ['round 1 not run: 1 clients with data connected, 2 needed', 38, 40],
    ]);
  });
});
