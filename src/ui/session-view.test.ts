import { describe, expect, it } from 'vitest';
import { INITIAL_SESSION_STATE, type PeerView, type SessionSettings, type SessionState } from '../session/types';
import { DEFAULT_HOST_FORM, hostFormToSettings } from '../session/host-form';
import { aggregatorLabel, canStart, canStop, roleText, roundProgressText, showsStart, statusText } from './session-view';

const parsed = hostFormToSettings(DEFAULT_HOST_FORM);
if (!parsed.ok) throw new Error('the default host form must be valid');
const settings: SessionSettings = parsed.settings;

const peer = (id: string, name: string): PeerView => ({ id, name, backend: 'webgl', numSamples: 10, labelHistogram: [], joinedAt: 0, isAggregator: false, isSelf: false, status: 'idle' });
const state = (patch: Partial<SessionState>): SessionState => ({ ...INITIAL_SESSION_STATE, ...patch });

describe('session header facts', () => {
  it('names the aggregator and says when it is this tab', () => {
    const peers = [peer('h', 'Teacher'), peer('c', 'Ana')];
    expect(aggregatorLabel(state({ aggregatorId: 'h', isAggregator: true, peers }))).toBe('Teacher (this tab)');
    expect(aggregatorLabel(state({ aggregatorId: 'h', isAggregator: false, peers }))).toBe('Teacher');
    expect(aggregatorLabel(state({ aggregatorId: 'zz', peers }))).toBe('zz');
    expect(aggregatorLabel(state({}))).toBe('not chosen yet');
  });

  it('shows the round in progress (the one the log says started), or how many are done between rounds', () => {
    expect(roundProgressText(state({ currentRound: 0, settings }))).toBe('Not started');
    expect(roundProgressText(state({ currentRound: 4, runningRound: 5, settings }))).toBe('Round 5 of 10');
    expect(roundProgressText(state({ currentRound: 3, settings }))).toBe('3 of 10 rounds done');
    expect(roundProgressText(state({ currentRound: 0, runningRound: 1 }))).toBe('Round 1');
  });

  it('the badge says stopping / stopped, and a client waits for the host rather than "to start"', () => {
    expect(statusText(state({ status: 'running', stopping: true }))).toBe('Stopping after this round');
    expect(statusText(state({ status: 'lobby', role: 'host', currentRound: 4 }))).toBe('Stopped after round 4');
    expect(statusText(state({ status: 'finished', endedBecause: 'the privacy budget (epsilon 4, delta 0.00001) is spent' }))).toBe('Finished: the privacy budget (epsilon 4, delta 0.00001) is spent');
    expect(statusText(state({ status: 'finished', endedBecause: null }))).toBe('Finished');
    expect(statusText(state({ status: 'lobby', role: 'client' }))).toBe('Waiting for the host to start');
    expect(statusText(state({ status: 'lobby', role: 'host' }))).toBe('Waiting to start');
    expect(statusText(state({ status: 'running', role: 'client' }))).toBe('Running');
  });

  it('says what a round waits for, on the host and on the students alike', () => {
    const waiting = { status: 'running' as const, phase: 'waiting' as const, waitingFor: '1 of 2 clients have data' };
    expect(statusText(state({ ...waiting, role: 'client' }))).toBe('Waiting: 1 of 2 clients have data');
    expect(statusText(state({ ...waiting, role: 'host', isAggregator: true }))).toBe('Waiting: 1 of 2 clients have data');
    expect(statusText(state({ status: 'lobby', phase: 'lobby', role: 'client', waitingFor: '0 of 2 clients have data' }))).toBe('Waiting: 0 of 2 clients have data');
    // A stopped run says so first; the host's Start says what it waits for.
    expect(statusText(state({ status: 'lobby', phase: 'stopped', role: 'client', currentRound: 3, waitingFor: '1 of 2 clients have data' }))).toBe('Stopped after round 3');
  });

  it('lets only the aggregating tab start from the lobby or resume a stopped run, and stop a running one', () => {
    expect(canStart(state({ role: 'host', isAggregator: true, status: 'lobby', settings }))).toBe(true);
    expect(canStart(state({ role: 'client', status: 'lobby', settings }))).toBe(false);
    expect(canStart(state({ role: 'host', isAggregator: true, status: 'running', settings }))).toBe(false);
    expect(canStart(state({ role: 'host', isAggregator: true, status: 'finished', settings, currentRound: 10 }))).toBe(false);
    expect(showsStart(state({ role: 'host', isAggregator: true, status: 'finished', settings, currentRound: 10 }))).toBe(false);
    expect(showsStart(state({ role: 'host', isAggregator: true, status: 'lobby', settings, currentRound: 4 }))).toBe(true);
    expect(canStart(state({ role: 'host', isAggregator: true, status: 'lobby', settings, currentRound: 4 }))).toBe(true);
    // Too few clients hold data: Start waits (the reason is shown beside it).
    expect(canStart(state({ role: 'host', isAggregator: true, status: 'lobby', settings, waitingFor: '1 of 2 clients have data' }))).toBe(false);
    expect(canStop(state({ role: 'host', isAggregator: true, status: 'running' }))).toBe(true);
    expect(canStop(state({ role: 'client', status: 'running' }))).toBe(false);
    expect(canStop(state({ role: 'host', isAggregator: true, status: 'lobby' }))).toBe(false);
    // After a handover the tab that took over has the controls, the former host's role notwithstanding.
    expect(canStop(state({ role: 'client', isAggregator: true, status: 'running' }))).toBe(true);
    expect(canStart(state({ role: 'client', isAggregator: true, status: 'lobby', settings, currentRound: 4 }))).toBe(true);
    expect(canStop(state({ role: 'host', isAggregator: false, status: 'running' }))).toBe(false);
  });
});

describe('roleText', () => {
  it('says who this tab is, including a client that took over aggregating', () => {
    expect(roleText({ role: 'host', isAggregator: true })).toBe('you are the host');
    expect(roleText({ role: 'client', isAggregator: false })).toBe('you are a client');
    expect(roleText({ role: 'client', isAggregator: true })).toBe('you aggregate: you took over from the host');
  });
});
