import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import type { PrivacySettings } from '../fl/private-aggregation';
import type { PeerView, RoundPrivacyView, RoundView, SessionSettings } from '../session/types';
import { DecompositionPanel, PRIVATE_DECOMPOSITION_NOTE } from './components/DecompositionPanel';
import { PeersTable } from './components/PeersTable';
import { PrivacyFieldset } from './components/PrivacyFieldset';
import { PrivacyPanel } from './components/PrivacyPanel';
import { RoundsTable } from './components/RoundsTable';
import { describePrivacy, epsilonColumns, formatDelta, latestPrivacy, peersPrivacyNote, privacySpentText, secureSumText } from './privacy-view';

const SETTINGS: PrivacySettings = { secureAggregation: true, clipNorm: 1, noiseMultiplier: 1.1, delta: 1e-5, budget: 4 };
const spent = (epsilon: number | null, patch: Partial<RoundPrivacyView> = {}): RoundPrivacyView => ({ secure: true, epsilon, delta: 1e-5, budget: 4, noiseMultiplier: 1.1, samplingRate: 1, survivors: 5, ...patch });
const round = (n: number, privacy?: RoundPrivacyView): RoundView => ({
  round: n, accuracy: null, loss: null, decomposition: null, participants: [], participantCount: 5, missing: [],
  trainMs: 0, aggregateMs: 0, evalMs: 0, slowestClientMs: 0, bytesSent: 0, bytesReceived: 0, ...(privacy ? { privacy } : {}),
});

describe('privacy texts', () => {
  it('says the epsilon spent of the budget, with delta as people write it', () => {
    expect(privacySpentText(spent(2.3109))).toBe('epsilon 2.31 of 4 (delta 1e-5)');
    expect(privacySpentText(spent(0.5, { budget: null, delta: 0.001 }))).toBe('epsilon 0.50 (delta 0.001), no budget');
    expect(privacySpentText(spent(null, { noiseMultiplier: 0 }))).toBe('no DP noise: no epsilon guarantee');
    expect(formatDelta(2.5e-6)).toBe('2.5e-6');
  });

  it('says what the aggregating tab saw only with secure aggregation', () => {
    expect(secureSumText(spent(1))).toBe('secure aggregation: the aggregating tab saw only the sum of 5 contributions');
    expect(secureSumText(spent(1, { survivors: 1 }))).toBe('secure aggregation: the aggregating tab saw only the sum of 1 contribution');
    expect(secureSumText(spent(1, { secure: false }))).toBeNull();
  });

  it('takes the newest round that reports privacy, and epsilon per round for the chart', () => {
    const rounds = [round(2, spent(1.5)), round(1, spent(0.9)), round(3)];
    expect(latestPrivacy(rounds)).toMatchObject({ round: 2, epsilon: 1.5 });
    expect(latestPrivacy([round(1)])).toBeNull();
    expect(epsilonColumns(rounds)).toEqual([[1, 2, 3], [0.9, 1.5, null]]);
  });

  it('summarises the settings and what the peers table cannot show', () => {
    expect(describePrivacy(SETTINGS)).toBe('private: secure aggregation, clip norm 1, DP noise 1.1 (delta 1e-5), budget epsilon 4');
    expect(describePrivacy({ ...SETTINGS, secureAggregation: false, noiseMultiplier: 0, budget: null })).toBe('private: clip norm 1, no DP noise');
    expect(peersPrivacyNote(SETTINGS)).toMatch(/^Per-peer updates are not visible: .*sees only the sum/);
    expect(peersPrivacyNote({ ...SETTINGS, secureAggregation: false })).toMatch(/screens nothing/);
  });
});

describe('the dashboard in a private session', () => {
  it('the privacy panel shows the spent epsilon and the sum the aggregating tab saw', () => {
    const html = renderToStaticMarkup(createElement(PrivacyPanel, { privacy: SETTINGS, rounds: [round(1, spent(0.8)), round(2, spent(2.31, { survivors: 4 }))] }));
    expect(html).toContain('<span class="big">2.31</span> epsilon of 4 (delta 1e-5)');
    expect(html).toContain('after round 2');
    expect(html).toContain('secure aggregation: the aggregating tab saw only the sum of 4 contributions in round 2.');
    expect(html).toContain('the aggregating tab learns only the sum of the updates');
    expect(renderToStaticMarkup(createElement(PrivacyPanel, { privacy: SETTINGS, rounds: [] }))).toContain('No private round has finished yet.');
    expect(html).toContain(PRIVATE_DECOMPOSITION_NOTE);
    const replay = renderToStaticMarkup(createElement(PrivacyPanel, { privacy: SETTINGS, rounds: [round(1, spent(0.8))], decompositionMeasured: true }));
    expect(replay).not.toContain(PRIVATE_DECOMPOSITION_NOTE);
  });

  it('the rounds table shows epsilon among its main columns in place of the decomposition it could not measure', () => {
    const html = renderToStaticMarkup(createElement(RoundsTable, { rounds: [round(1, spent(0.8)), round(2, spent(null))], evaluating: false }));
    expect(html).toContain('Epsilon</th>');
    expect(html).toMatch(/<td>0\.80<\/td>/);
    expect(html).toMatch(/<td>—<\/td>/);
    expect(html).not.toContain('Global');
    expect(html).not.toContain('not measured');
    const plain = renderToStaticMarkup(createElement(RoundsTable, { rounds: [round(1)], evaluating: false }));
    expect(plain).not.toContain('Epsilon');
    expect(plain).toContain('Global');
    // A replayed simulator run measured it: then the columns are there.
    const decomposition = { global: 1, local: 0.5, shift: 0.3, aggregation: 0.2 };
    const measured = renderToStaticMarkup(createElement(RoundsTable, { rounds: [{ ...round(1, spent(0.8)), decomposition }], evaluating: false }));
    expect(measured).toContain('Global');
    expect(measured).toContain('Epsilon</th>');
  });

  it('the peers table says per-peer updates are not visible and shows no per-update detail', () => {
    const peer = { id: 'a', name: 'Phone', backend: 'wasm', numSamples: 10, labelHistogram: [5, 5], joinedAt: 0, isAggregator: false, isSelf: false, status: 'uploaded', statusRound: 3, statusDetail: 'clipped: norm 9 over 2' } as PeerView;
    const plain = renderToStaticMarkup(createElement(PeersTable, { peers: [peer], knowsStatus: true }));
    expect(plain).toContain('update sent (round 3) · clipped');
    const html = renderToStaticMarkup(createElement(PeersTable, { peers: [peer], knowsStatus: true, privacy: SETTINGS }));
    expect(html).toContain('Per-peer updates are not visible');
    expect(html).toContain('update sent (round 3)</span>');
    expect(html).not.toContain('clipped');
    const asClient = renderToStaticMarkup(createElement(PeersTable, { peers: [peer], knowsStatus: false, privacy: SETTINGS }));
    expect(asClient).toContain('their label counts stay on their devices');
    expect(asClient).not.toContain('label counts are known');
  });
});

describe('the host form privacy section', () => {
  it('offers the five privacy settings, and says whether private aggregation is on', () => {
    const fields: string[] = [];
    const setting = (name: string) => {
      fields.push(name);
      return createElement('span', { key: name }, name);
    };
    const off = renderToStaticMarkup(createElement(PrivacyFieldset, { setting, active: false }));
    expect(fields).toEqual(['dpClip', 'secagg', 'dpNoise', 'dpDelta', 'dpBudget']);
    expect(off).toContain('Set a clip norm to turn private aggregation on.');
    expect(renderToStaticMarkup(createElement(PrivacyFieldset, { setting, active: true }))).toContain('Private aggregation is on');
  });
});

describe('the decomposition panel in a private session', () => {
  it('says why nothing is measured and offers no mode to switch on', () => {
    const settings = { rounds: 3, decomposition: 'off', decompositionEvery: 1, privacy: SETTINGS } as SessionSettings;
    const html = renderToStaticMarkup(createElement(DecompositionPanel, { rounds: [round(1, spent(0.5))], settings, canChangeMode: true }));
    expect(html).toContain(PRIVATE_DECOMPOSITION_NOTE);
    expect(html).not.toContain('decomposition-mode');
    expect(html).not.toContain('the host can switch it on');
    const plain = renderToStaticMarkup(createElement(DecompositionPanel, { rounds: [round(1)], settings: { ...settings, privacy: undefined }, canChangeMode: true }));
    expect(plain).toContain('decomposition-mode');
  });
});
