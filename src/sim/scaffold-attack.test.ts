/**
 * The SCAFFOLD control-variate attack through the simulator (real MNIST, MLP, SCAFFOLD, Dirichlet 0.5): one attacker
 * of five replaces its delta-c by a fixed direction at 2x its honest norm. The delta-c check (delta-c + c along
 * -delta-w) is the strategy's own and runs in every robust mode; 'off' here keeps the other defences out of the count.
 * Accuracy figures at a larger scale are in docs/algorithm.md (SCAFFOLD).
 */
import { describe, expect, it } from 'vitest';
import type { EngineEvent } from '../fl/engine';
import { chooseAttackers, parseAttacks } from './attacks';
import { runSimulation, SIM_DEFAULTS, type SimConfig } from './simulation';

const base: SimConfig = { ...SIM_DEFAULTS, limit: 1500, testLimit: 500, clients: 5, rounds: 6, strategy: { name: 'scaffold' }, robust: 'off', backend: 'wasm' };
const attack = { attackers: 1, attacks: parseAttacks('scaffold-c:2') };
const TIMEOUT = 180_000;

async function run(cfg: SimConfig) {
  const refusals: Array<{ from: string; reason: string }> = [];
  const result = await runSimulation(cfg, { onEngineEvent: (e: EngineEvent) => void (e.kind === 'rejected' && /deltaC/.test(e.reason) && refusals.push({ from: e.from, reason: e.reason })) });
  return { result, refusals };
}

describe('SCAFFOLD delta-c check against the fixed-direction control-variate attack', () => {
  it('refuses nothing in an honest run; leaves the attacker out every round with the reason, so the model is the one without its updates', async () => {
    const clean = await run(base);
    expect(clean.refusals).toEqual([]);
    const checked = await run({ ...base, attack });
    const [attacker] = chooseAttackers(base.clients, 1, base.seed);
    expect(checked.refusals).toHaveLength(base.rounds);
    for (const r of checked.refusals) {
      expect(r.from).toBe(`client-${String(attacker).padStart(3, '0')}`);
      expect(r.reason).toMatch(/SCAFFOLD: deltaC does not follow from delta-w: the cosine of delta-c \+ c with -delta-w is -?0\.\d+/);
    }
    // The same attacker sending NaN is dropped by the safety net: the same rounds, to the last digit.
    const absent = await run({ ...base, attack: { attackers: 1, attacks: parseAttacks('nan') } });
    expect(checked.result.rounds.map((r) => r.loss)).toEqual(absent.result.rounds.map((r) => r.loss));
    // Without the check the forged delta-c goes into c and changes the run.
    const unchecked = await run({ ...base, strategy: { name: 'scaffold', controlCosine: -1 }, attack });
    expect(unchecked.refusals).toEqual([]);
    expect(unchecked.result.rounds.map((r) => r.loss)).not.toEqual(checked.result.rounds.map((r) => r.loss));
  }, TIMEOUT);
});
