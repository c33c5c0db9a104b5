import { describe, expect, it } from 'vitest';
import type { LocalTrainer, TrainResponse } from '../fl/local-trainer';
import { mlpSpec } from '../fl/models';
import { AttackingTrainer, applyAttacks, chooseAttackers, parseAttacks } from './attacks';
import { parseSimArgs, UsageError } from './cli-options';

const honest = (): TrainResponse => ({
  delta: [{ name: 'w', shape: [4], values: Float32Array.from([0.5, -0.25, 0, 2]) }],
  numSamples: 120,
  cancelled: false,
  metrics: { trainLoss: 1, evalLoss: 1, evalAccuracy: 0.5, trainMs: 5, samplesPerSecond: 10 },
});

describe('simulator attacks', () => {
  it('parses single and combined attacks, and refuses malformed ones', () => {
    expect(parseAttacks('scale:1e6')).toEqual([{ kind: 'scale', factor: 1e6 }]);
    expect(parseAttacks('signflip:4,inflate-samples:1000000000')).toEqual([{ kind: 'signflip', factor: 4 }, { kind: 'inflate-samples', samples: 1e9 }]);
    expect(parseAttacks('nan')).toEqual([{ kind: 'nan' }]);
    expect(parseAttacks('max-float')).toEqual([{ kind: 'max-float' }]);
    for (const bad of ['', 'scale', 'scale:', 'scale:x', 'nan:3', 'inflate-samples:0', 'inflate-samples:1.5', 'krum:1', 'scale:1:2', 'nan,']) {
      expect(() => parseAttacks(bad)).toThrow();
    }
  });

  it('transforms the honest response: scale, sign flip, NaN, max-float, inflated samples', () => {
    const v = (r: TrainResponse) => Array.from(r.delta[0].values);
    expect(v(applyAttacks(honest(), [{ kind: 'scale', factor: 1e6 }]))).toEqual([5e5, -2.5e5, 0, 2e6]);
    const flipped = applyAttacks(honest(), parseAttacks('signflip:4,inflate-samples:1000000000'));
    expect(v(flipped)).toEqual([-2, 1, -0, -8]);
    expect(flipped.numSamples).toBe(1e9);
    expect(v(applyAttacks(honest(), [{ kind: 'nan' }])).every(Number.isNaN)).toBe(true);
    const max = v(applyAttacks(honest(), [{ kind: 'max-float' }]));
    expect(max).toEqual([3.4028234663852886e38, -3.4028234663852886e38, 3.4028234663852886e38, 3.4028234663852886e38]);
    // The honest response is not modified.
    const h = honest();
    applyAttacks(h, [{ kind: 'scale', factor: 3 }]);
    expect(Array.from(h.delta[0].values)).toEqual([0.5, -0.25, 0, 2]);
  });

  it('wraps a LocalTrainer: trains and evaluates through it, poisons the update and the declared samples', async () => {
    const calls: string[] = [];
    const inner: LocalTrainer = {
      train: async () => (calls.push('train'), honest()),
      evaluate: async () => (calls.push('evaluate'), { losses: [0.3], accuracies: [0.9], perClassAccuracies: [[0.9, null]], predictionCounts: [[11, 9]], numSamples: 20 }),
      info: async () => ({ backend: 'test', numSamples: 120, labelHistogram: [60, 60] }),
    };
    const attacker = new AttackingTrainer(inner, parseAttacks('scale:-2,inflate-samples:5000'));
    const spec = mlpSpec([4], 2, []);
    const r = await attacker.train({ round: 1, model: spec, strategy: { name: 'fedavg' }, train: { localEpochs: 1, batchSize: 8, learningRate: 0.1, seed: 1 }, weights: [] });
    expect(Array.from(r.delta[0].values)).toEqual([-1, 0.5, -0, -4]);
    expect(r.numSamples).toBe(5000);
    expect((await attacker.info()).numSamples).toBe(5000);
    expect(await attacker.evaluate(spec, [])).toEqual({ losses: [0.3], accuracies: [0.9], perClassAccuracies: [[0.9, null]], predictionCounts: [[11, 9]], numSamples: 20 });
    expect(calls).toEqual(['train', 'evaluate']);
  });

  it('chooses the attackers from the seed alone', () => {
    const a = chooseAttackers(10, 3, 1);
    expect(a.size).toBe(3);
    expect([...a].every((k) => k >= 0 && k < 10)).toBe(true);
    expect([...chooseAttackers(10, 3, 1)]).toEqual([...a]);
    const seeds = new Set([1, 2, 3, 4, 5, 6].map((s) => [...chooseAttackers(10, 3, s)].sort().join()));
    expect(seeds.size).toBeGreaterThan(1);
    expect(chooseAttackers(5, 0, 1).size).toBe(0);
    expect(chooseAttackers(5, 5, 1).size).toBe(5);
    expect(() => chooseAttackers(5, 6, 1)).toThrow();
  });

  it('the CLI takes --robust, --attackers and --attack, and refuses bad combinations', () => {
    const { config } = parseSimArgs(['--clients', '5', '--attackers', '1', '--attack', 'signflip:4,inflate-samples:1e9', '--robust', 'median']);
    expect(config.robust).toBe('median');
    expect(config.attack).toEqual({ attackers: 1, attacks: [{ kind: 'signflip', factor: 4 }, { kind: 'inflate-samples', samples: 1e9 }] });
    expect(parseSimArgs([]).config).toMatchObject({ robust: 'clip', attack: null });
    for (const [args, message] of [
      [['--robust', 'krum'], /--robust must be one of off, clip, trimmed-mean, median/],
      [['--attackers', '1'], /--attackers needs --attack/],
      [['--attack', 'nan'], /--attack needs --attackers/],
      [['--clients', '3', '--attackers', '4', '--attack', 'nan'], /--attackers must be an integer from 0 to --clients \(3\)/],
      [['--attackers', '1', '--attack', 'scale'], /--attack: attack "scale" needs a finite factor/],
    ] as const) {
      expect(() => parseSimArgs([...args])).toThrow(UsageError);
      expect(() => parseSimArgs([...args])).toThrow(message);
    }
  });
});
