/**
 * A private session in the browser: a host tab and two client tabs run secure aggregation with client-level DP over
 * WebRTC. Each tab's keys, masks and noise stay in its training worker; the aggregating tab learns only the sum; every
 * tab shows the epsilon spent, and the session ends when the budget would be passed. Run inside the network
 * namespace (npm run test:e2e).
 */
import { describe, expect, it } from 'vitest';
import { waitUntil } from './harness/browser';
import type { SessionSettings } from '../src/session/types';
import { hostAndJoin, sessionTabsForFile, stateOf, type SessionPageApi as Api } from './harness/session-page';

const settings: SessionSettings = {
  model: 'mlp',
  strategy: { name: 'fedavg' },
  rounds: 40,
  localEpochs: 1,
  batchSize: 32,
  learningRate: 0.05,
  minClients: 3,
  fraction: 1,
  roundDeadlineMs: 60_000,
  decomposition: 'off',
  decompositionEvery: 1,
  codec: 'float16',
  robust: 'off',
  demoPartition: { kind: 'iid' },
  demoClients: 3,
  seed: 3,
  hostTrains: true,
  privacy: { secureAggregation: true, clipNorm: 1, noiseMultiplier: 1, delta: 1e-5, budget: 8 },
};

describe('a private session between three tabs', () => {
  const session = sessionTabsForFile(3);

  it('aggregates secure sums of every tab, shows epsilon on every tab, and ends when the budget is spent', async () => {
    const tabs = session.tabs;
    const [host, ...clients] = tabs;
    await hostAndJoin(tabs, settings);
    expect((await stateOf(clients[0])).settings?.privacy).toEqual(settings.privacy);
    host.page.evaluate(() => (window as unknown as Api).fedtab.start()).catch(() => {});
    const state = await waitUntil('the session ends on its budget', async () => {
      const s = await stateOf(host);
      return s.phase === 'finished' ? s : undefined;
    }, 240_000);
    expect(state.endedBecause).toMatch(/privacy budget \(epsilon 8, delta 0.00001\) is spent/);
    expect(state.rounds.length).toBeGreaterThan(1);
    expect(state.rounds.length).toBeLessThan(40);
    for (const r of state.rounds) {
      expect(r.privacy).toMatchObject({ secure: true, survivors: 3 });
      expect(r.participantCount).toBe(3);
    }
    const eps = state.rounds.map((r) => r.privacy!.epsilon!);
    expect(eps[eps.length - 1]).toBeLessThanOrEqual(8);
    for (const c of clients) {
      const seen = await waitUntil('the client tab has every round', async () => {
        const s = await stateOf(c);
        return s.rounds.length === state.rounds.length ? s : undefined;
      }, 30_000);
      expect(seen.rounds.map((r) => r.privacy?.epsilon)).toEqual(eps);
    }
    for (const tab of tabs) expect(tab.problems).toEqual([]);
  });
});
