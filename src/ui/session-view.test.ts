import { describe, expect, it } from 'vitest';
import { INITIAL_SESSION_STATE, type PeerView, type SessionSettings, type SessionState } from '../session/types';
import { DEFAULT_HOST_FORM, hostFormToSettings } from './host-form';
import { aggregatorLabel, canStart, canStop, roundProgressText } from './session-view';

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

  it('shows round n of total', () => {
    expect(roundProgressText(state({ currentRound: 0, settings }))).toBe('Not started');
    expect(roundProgressText(state({ currentRound: 3, settings }))).toBe('Round 3 of 10');
    expect(roundProgressText(state({ currentRound: 3 }))).toBe('Round 3');
  });

  it('lets only the aggregating tab start from the lobby or resume a stopped run, and stop a running one', () => {
    expect(canStart(state({ role: 'host', isAggregator: true, status: 'lobby', settings }))).toBe(true);
    expect(canStart(state({ role: 'client', status: 'lobby', settings }))).toBe(false);
    expect(canStart(state({ role: 'host', isAggregator: true, status: 'running', settings }))).toBe(false);
    expect(canStart(state({ role: 'host', isAggregator: true, status: 'finished', settings, currentRound: 10 }))).toBe(false);
    expect(canStart(state({ role: 'host', isAggregator: true, status: 'finished', settings, currentRound: 4 }))).toBe(true);
    expect(canStop(state({ role: 'host', isAggregator: true, status: 'running' }))).toBe(true);
    expect(canStop(state({ role: 'client', status: 'running' }))).toBe(false);
    expect(canStop(state({ role: 'host', isAggregator: true, status: 'lobby' }))).toBe(false);
    // After a handover the tab that took over has the controls, the former host's role notwithstanding.
    expect(canStop(state({ role: 'client', isAggregator: true, status: 'running' }))).toBe(true);
    expect(canStart(state({ role: 'client', isAggregator: true, status: 'finished', settings, currentRound: 4 }))).toBe(true);
    expect(canStop(state({ role: 'host', isAggregator: false, status: 'running' }))).toBe(false);
  });
});
