/**
 * Model poisoning through the simulator, with the default defence (robust 'clip'): one attacker of five, on real
 * MNIST (MLP, FedLD, Dirichlet 0.5). To keep each run to a few seconds the data is a subset (1500 training, 500 test
 * samples) of the bench's setup (scripts/bench-attacks-poisoning.ts: 6000 / 2000); the statement tested is the same:
 * every attack ends within 2 accuracy points of the clean run with the same settings.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAttacks } from './attacks';
import { runSimulation, SIM_DEFAULTS, type SimConfig, type SimResult } from './simulation';

const base: SimConfig = { ...SIM_DEFAULTS, limit: 1500, testLimit: 500, clients: 5, rounds: 10, backend: 'wasm' };
const attacked = (spec: string, robust: SimConfig['robust'] = base.robust): SimConfig => ({ ...base, robust, attack: { attackers: 1, attacks: parseAttacks(spec) } });
const TIMEOUT = 180_000;

describe('poisoning: 1 attacker of 5, default robust aggregation', () => {
  let clean: SimResult;
  beforeAll(async () => {
    clean = await runSimulation(base);
  }, TIMEOUT);

  it.each(['scale:1e6', 'signflip:4,inflate-samples:1000000000', 'nan', 'max-float'])(
    '%s: final accuracy within 2 points of the clean run, the model finite every round',
    async (spec) => {
      const r = await runSimulation(attacked(spec));
      expect(clean.final.accuracy).toBeGreaterThan(0.6);
      expect(r.rounds).toHaveLength(10);
      expect(r.rounds.every((x) => Number.isFinite(x.loss))).toBe(true);
      expect(r.final.accuracy).toBeGreaterThan(clean.final.accuracy - 0.02);
    },
    TIMEOUT,
  );

  it("without defence (robust 'off') the same scaled update ruins the model", async () => {
    const r = await runSimulation(attacked('scale:1e6', 'off'));
    expect(r.final.accuracy).toBeLessThan(clean.final.accuracy - 0.2);
  }, TIMEOUT);
});
