import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Dataset } from '../fl/data/dataset';
import { loadMnistNode } from '../fl/data/node-loaders';
import type { Partition } from '../fl/data/partition';
import type { LocalTrainer, TrainResponse } from '../fl/local-trainer';
import { buildModel, getWeights, mlpSpec } from '../fl/models';
import { labelVerdicts, normOf, robustSettings, ROBUST_DEFAULTS, screenUpdates } from '../fl/robust';
import type { ClientUpdate } from '../fl/strategies/types';
import { armAttackers } from './arm-attackers';
import { AttackingTrainer, applyAttacks, chooseAttackers, parseAttacks, poisonTrainingData } from './attacks';
import { buildClientShards, materializeShard } from './client-shards';
import { buildParticipantTrainer, InProcessRunner, type ParticipantContext } from './participant';
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
      [['--robust', 'krum'], /--robust expected one of (?=.*\boff\b)(?=.*\bclip\b)(?=.*trimmed-mean)(?=.*median)/],
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

describe('data poisoning and the SCAFFOLD control-variate attack', () => {
  const withDeltaC = (dc: number[]): TrainResponse => ({ ...honest(), extras: { deltaC: [{ name: 'w', shape: [dc.length], values: Float32Array.from(dc) }] } });
  const norm = (values: Float32Array) => Math.hypot(...values);

  it('parses label-flip:CLASS and scaffold-c:F, and refuses malformed ones', () => {
    expect(parseAttacks('label-flip:0')).toEqual([{ kind: 'label-flip', label: 0 }]);
    expect(parseAttacks('scaffold-c:2,inflate-samples:10')).toEqual([{ kind: 'scaffold-c', factor: 2 }, { kind: 'inflate-samples', samples: 10 }]);
    for (const bad of ['label-flip', 'label-flip:-1', 'label-flip:1.5', 'label-flip:x', 'scaffold-c', 'scaffold-c:inf']) expect(() => parseAttacks(bad)).toThrow();
  });

  it('scaffold-c: delta-c becomes one seed-fixed direction at F x its honest norm, delta-w stays honest', () => {
    const a = applyAttacks(withDeltaC([3, 4, 0, 0]), [{ kind: 'scaffold-c', factor: 2 }], 7);
    const b = applyAttacks(withDeltaC([0, 0, -1, 0]), [{ kind: 'scaffold-c', factor: 1 }], 7);
    const other = applyAttacks(withDeltaC([0, 0, -1, 0]), [{ kind: 'scaffold-c', factor: 1 }], 8);
    expect(norm(a.extras!.deltaC[0].values)).toBeCloseTo(10, 5);
    expect(norm(b.extras!.deltaC[0].values)).toBeCloseTo(1, 5);
    // Same seed, same direction, whatever the honest delta-c; another seed, another direction.
    Array.from(a.extras!.deltaC[0].values).forEach((x, i) => expect(x / 10).toBeCloseTo(b.extras!.deltaC[0].values[i], 5));
    expect(Array.from(other.extras!.deltaC[0].values)).not.toEqual(Array.from(b.extras!.deltaC[0].values));
    expect(Array.from(a.delta[0].values)).toEqual([0.5, -0.25, 0, 2]);
    expect(() => applyAttacks(honest(), [{ kind: 'scaffold-c', factor: 1 }])).toThrow(/carries no deltaC/);
  });

  it('label-flip changes the training data, not the report', () => {
    const data: Dataset = { kind: 'tabular', rows: Float32Array.from([1, 2, 3, 4, 5, 6]), features: 2, labels: Int32Array.from([0, 1, 2]), numClasses: 3 };
    expect(Array.from(poisonTrainingData(data, parseAttacks('label-flip:2')).labels)).toEqual([2, 2, 2]);
    expect(Array.from(data.labels)).toEqual([0, 1, 2]);
    expect(poisonTrainingData(data, parseAttacks('scale:2'))).toBe(data);
    expect(() => poisonTrainingData(data, parseAttacks('label-flip:3'))).toThrow(/label-flip:3 names no class of the data \(classes 0\.\.2\)/);
    expect(Array.from(applyAttacks(honest(), parseAttacks('label-flip:1')).delta[0].values)).toEqual([0.5, -0.25, 0, 2]);
  });

  it('arms the seed-chosen attackers: their shards train on flipped labels, their trainers report the attacks', async () => {
    const data: Dataset = { kind: 'tabular', rows: new Float32Array(8 * 2), features: 2, labels: Int32Array.from([0, 1, 0, 1, 0, 1, 0, 1]), numClasses: 2 };
    const shards = [0, 1, 2, 3].map((k) => ({ index: k, train: Int32Array.from([2 * k, 2 * k + 1]), eval: Int32Array.from([2 * k]), labelHistogram: [1, 1] }));
    const armed = armAttackers(shards, { attackers: 2, attacks: parseAttacks('label-flip:1,scale:2') }, { seed: 3, strategy: 'fedavg', numClasses: 2, labels: data.labels });
    expect([...armed.attackers].sort()).toEqual([...chooseAttackers(4, 2, 3)].sort());
    for (const s of armed.shards) {
      const local = materializeShard(data, s);
      expect(Array.from(local.train.labels)).toEqual(armed.attackers.has(s.index) ? [1, 1] : [0, 1]);
      expect(Array.from(local.eval.labels)).toEqual([0]);
    }
    const inner: LocalTrainer = { train: async () => honest(), evaluate: async () => { throw new Error('unused'); }, info: async () => ({ backend: 'test', numSamples: 2, labelHistogram: [1, 1] }) };
    const req = { round: 1, model: mlpSpec([2], 2, []), strategy: { name: 'fedavg' }, train: { localEpochs: 1, batchSize: 8, learningRate: 0.1, seed: 1 }, weights: [] };
    for (const k of [0, 1, 2, 3]) {
      const r = await armed.trainer(k, inner).train(req);
      expect(r.delta[0].values[3]).toBe(armed.attackers.has(k) ? 4 : 2);
    }
    expect(() => armAttackers(shards, { attackers: 1, attacks: parseAttacks('scaffold-c:1') }, { seed: 3, strategy: 'fedavg', numClasses: 2, labels: data.labels })).toThrow(/scaffold-c needs --strategy scaffold/);
    expect(() => armAttackers(shards, { attackers: 1, attacks: parseAttacks('label-flip:2') }, { seed: 3, strategy: 'fedavg', numClasses: 2, labels: data.labels })).toThrow(/names no class/);
  });

  it('the CLI refuses scaffold-c with another strategy', () => {
    expect(parseSimArgs(['--strategy', 'scaffold', '--attackers', '1', '--attack', 'scaffold-c:2']).config.attack).toEqual({ attackers: 1, attacks: [{ kind: 'scaffold-c', factor: 2 }] });
    expect(() => parseSimArgs(['--strategy', 'fedavg', '--attackers', '1', '--attack', 'scaffold-c:2'])).toThrow(/--attack: attack scaffold-c needs --strategy scaffold/);
  });
});

describe('pose-minority: an attacker posing as a label-verified minority', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  const train = loadMnistNode('train', 1500);
  const [attacker] = [...chooseAttackers(5, 1, 2)];
  /**
   * Five clients: the honest four share the classes round-robin; the attacker holds every sample of class `top` that
   * the others do not get and a twentieth of classes 1 and 2, so that `top` is its most frequent class.
   */
  function partitionWith(top: number, othersGetOf: (label: number, i: number) => boolean): Partition {
    const clients: number[][] = [[], [], [], [], []];
    const honest = [0, 1, 2, 3, 4].filter((k) => k !== attacker);
    let turn = 0;
    train.labels.forEach((y, i) => {
      const toAttacker = y === top ? !othersGetOf(y, i) : (y === 1 || y === 2) && i % 20 === 0;
      clients[toAttacker ? attacker : honest[turn++ % 4]].push(i);
    });
    const histograms = clients.map((idx) => Array.from({ length: 10 }, (_, c) => idx.filter((i) => train.labels[i] === c).length));
    return { clients: clients.map((idx) => Int32Array.from(idx)), histograms };
  }

  async function roundUnder(partition: Partition, factor: number) {
    const shards = buildClientShards(train, partition, { evalFraction: 0.2, evalMax: 100, seed: 2 });
    const spec = mlpSpec([28, 28, 1], 10);
    const weights = await getWeights(buildModel(spec, 2));
    const req = { round: 1, model: spec, strategy: { name: 'fedavg' }, train: { localEpochs: 1, batchSize: 32, learningRate: 0.1, seed: 2 }, weights };
    const runner = new InProcessRunner(train, 2);
    try {
      const armed = armAttackers(shards, { attackers: 1, attacks: parseAttacks(`pose-minority:${factor}`) }, { seed: 2, strategy: 'fedavg', numClasses: 10, labels: train.labels });
      expect([...armed.attackers]).toEqual([attacker]);
      const ctx: ParticipantContext = { shards: armed.shards, runner, backendName: 'cpu', clientStates: new Map() };
      const trainers = shards.map((_, k) => armed.trainer(k, buildParticipantTrainer(ctx, k)));
      const updates: ClientUpdate[] = [];
      for (const [k, t] of trainers.entries()) {
        const r = await t.train(req);
        updates.push({ clientId: String(k), delta: r.delta, numSamples: r.numSamples });
      }
      const declared = await Promise.all(trainers.map((t) => t.info()));
      const declaredLabels = (id: string) => declared[Number(id)].labelHistogram;
      const layout = weights.map((t) => ({ name: t.name, shape: t.shape }));
      const norms = updates.map((u) => normOf(u.delta));
      const median = [...norms].sort((a, b) => a - b)[2];
      const screen = (settings = robustSettings('clip')) => screenUpdates(layout, updates, () => undefined, settings, { declaredLabels });
      const keptNorm = (r: { kept: ClientUpdate[] }) => normOf(r.kept.find((u) => u.clientId === String(attacker))!.delta);
      return { shards, armed, updates, declared, declaredLabels, layout, median, sent: norms[attacker] / median, screen, keptNorm };
    } finally {
      await runner.dispose();
    }
  }

  it('trains and declares its most frequent class only, passes the label check, and gets the wider bound, never more than minorityFactor x the median norm', async () => {
    // Class 9 is the attacker's alone: it poses as the minority it really is, then scales its update.
    const alone = partitionWith(9, () => false);
    const { shards, armed, updates, declared, declaredLabels, layout, median, sent, screen, keptNorm } = await roundUnder(alone, 7);
    const own = shards[attacker].labelHistogram;
    expect(own.indexOf(Math.max(...own))).toBe(9);
    const cut = armed.shards[attacker];
    // What it trains on, the sample count it reports and the histogram it declares agree: one class, its most frequent.
    expect(Array.from(cut.train, (i) => train.labels[i]).every((y) => y === 9)).toBe(true);
    expect(cut.train.length).toBe(own[9]);
    expect(declared[attacker].labelHistogram).toEqual(own.map((n, c) => (c === 9 ? n : 0)));
    expect(updates[attacker].numSamples).toBe(own[9]);
    armed.shards.filter((s) => s.index !== attacker).forEach((s) => expect(s).toEqual(shards[s.index]));

    const verdicts = labelVerdicts(layout, updates, declaredLabels);
    const verdict = verdicts.find((v) => v.clientId === String(attacker))!;
    const skews = verdicts.map((v) => v.skew).sort((a, b) => a - b);
    expect(verdict.cosine).toBeGreaterThan(ROBUST_DEFAULTS.minLabelCosine);
    expect(verdict.skew).toBeGreaterThanOrEqual(Math.max(ROBUST_DEFAULTS.minLabelSkew, ROBUST_DEFAULTS.minoritySkewRatio * skews[2]));

    expect(sent).toBeGreaterThan(ROBUST_DEFAULTS.dropFactor);
    expect(sent).toBeLessThan(ROBUST_DEFAULTS.minorityFactor);
    const screened = screen();
    expect(screened.dropped).toEqual([]);
    // The wider bound: more than the plain bounds let in (they shrink it to the median norm)...
    expect(keptNorm(screened)).toBeGreaterThan(ROBUST_DEFAULTS.dropFactor * median);
    expect(keptNorm(screen(robustSettings({ minorityFactor: 1 })))).toBeLessThanOrEqual(median * (1 + 1e-6));
    // ...and never more than minorityFactor x the median, at any scale.
    for (const factor of [20, 1e6]) {
      const r = await roundUnder(alone, factor);
      expect(r.keptNorm(r.screen())).toBeLessThanOrEqual(ROBUST_DEFAULTS.minorityFactor * r.median * (1 + 1e-6));
    }
  }, 60_000);

  it('gets the plain bounds when the class it poses for is one the others hold too', async () => {
    // Class 0: the attacker keeps a tenth of it, the honest four share the rest (over 5% of their labels each).
    const { shards, declaredLabels, layout, updates, median, sent, screen, keptNorm } = await roundUnder(partitionWith(0, (_, i) => i % 10 !== 0), 12);
    const own = shards[attacker].labelHistogram;
    expect(own.indexOf(Math.max(...own))).toBe(0);
    shards.filter((s) => s.index !== attacker).forEach((s) => expect(s.labelHistogram[0] / s.train.length).toBeGreaterThan(ROBUST_DEFAULTS.minorityCoverShare));
    const verdict = labelVerdicts(layout, updates, declaredLabels).find((v) => v.clientId === String(attacker))!;
    expect(verdict.cosine).toBeGreaterThan(ROBUST_DEFAULTS.minLabelCosine);
    // Scaled (x12, its data being small) to between the plain bound and minorityFactor.
    expect(sent).toBeGreaterThan(ROBUST_DEFAULTS.dropFactor);
    expect(sent).toBeLessThan(ROBUST_DEFAULTS.minorityFactor);
    const screened = screen();
    expect(keptNorm(screened)).toBeLessThanOrEqual(median * (1 + 1e-6));
    expect(screened.clipped.find((c) => c.clientId === String(attacker))!.minority).toBeUndefined();
    // Were class 0 uncovered (a cover share above 1), it would be held to the wider bounds, and keep more.
    const wider = screen(robustSettings({ minorityCoverShare: 2 }));
    expect(wider.clipped.find((c) => c.clientId === String(attacker))?.minority).toBe(true);
    expect(keptNorm(wider)).toBeGreaterThan(keptNorm(screened));
  }, 60_000);

  it('parses pose-minority:F and scales the honest delta by F', () => {
    expect(parseAttacks('pose-minority:7')).toEqual([{ kind: 'pose-minority', factor: 7 }]);
    for (const bad of ['pose-minority', 'pose-minority:', 'pose-minority:inf', 'pose-minority:1:2']) expect(() => parseAttacks(bad)).toThrow();
    expect(parseAttacks('pose-minority:7,fast')).toEqual([{ kind: 'pose-minority', factor: 7 }, { kind: 'fast' }]);
    expect(() => parseAttacks('fast:2')).toThrow(/takes no argument/);
    expect(Array.from(applyAttacks(honest(), parseAttacks('pose-minority:2')).delta[0].values)).toEqual([1, -0.5, 0, 4]);
  });
});
