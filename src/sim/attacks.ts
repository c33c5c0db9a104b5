/**
 * Attacks for the simulator and for in-memory session tests. Two kinds:
 * - reporting attacks (model poisoning): a wrapper around an attacker client's LocalTrainer that trains honestly
 *   and then transforms what it reports (the update, SCAFFOLD's control-variate change, the sample counts);
 * - data poisoning (label-flip): the attacker's training data itself is changed (poisonTrainingData), so it trains
 *   honestly on lies and reports whatever that training gives;
 * - posing as a minority (pose-minority): the attacker keeps only the samples of its most frequent class, declares that
 *   histogram (the true one of what it trains on), trains honestly and scales its update, so it passes the check by
 *   labels and gets a label-verified minority's wider norm bounds (arm-attackers.ts cuts its shard);
 * - answering fast (fast): on the simulated clock, the attacker's device time follows the data it trains on, not its
 *   shard as partitioned, so one that cut its data (pose-minority) answers sooner and is in every asynchronous step.
 * The engine, the client and the strategies stay exactly those of the app.
 */
import type { Dataset } from '../fl/data/dataset';
import type { ModelSpec } from '../fl/models';
import type { EvaluateResponse, LocalTrainer, TrainerInfo, TrainRequest, TrainResponse } from '../fl/local-trainer';
import { Rng } from '../fl/rng';
import { SCAFFOLD_NAMES } from '../fl/strategies/scaffold';
import type { TrainHooks } from '../fl/train';
import type { WeightSet } from '../fl/weights';

const MAX_FLOAT32 = 3.4028234663852886e38;

/** One transformation; several compose (applied in order), e.g. signflip:4 then inflate-samples:1e9. */
export type Attack =
  /** delta * factor */
  | { kind: 'scale'; factor: number }
  /** delta * -factor */
  | { kind: 'signflip'; factor: number }
  /** every value NaN */
  | { kind: 'nan' }
  /** every value +-float32 max, with the sign of the honest delta */
  | { kind: 'max-float' }
  /** claims `samples` training samples, in the hello and in every update */
  | { kind: 'inflate-samples'; samples: number }
  /** data poisoning: trains with every training label replaced by `label` */
  | { kind: 'label-flip'; label: number }
  /**
   * SCAFFOLD's control-variate change delta-c replaced by one fixed direction (the same for every attacker, from the
   * seed) at `factor` x the norm of the honest delta-c; delta-w stays honest.
   */
  | { kind: 'scaffold-c'; factor: number }
  /**
   * Trains and declares only its shard's most frequent class (an honest-looking minority), then scales its delta by
   * `factor`: what the minority exception of robust screening lets through (RobustSettings.minorityFactor).
   */
  | { kind: 'pose-minority'; factor: number }
  /**
   * Simulated clock only: the attacker's device time follows the data it trains on. Without it an attacker answers at
   * its device's usual pace (the time its shard as partitioned takes), so a run measures the screening, not its cadence.
   */
  | { kind: 'fast' };

export interface AttackConfig {
  /** How many clients attack; which ones follows from the seed (chooseAttackers). */
  attackers: number;
  attacks: Attack[];
}

export const ATTACK_SYNTAX = 'scale:F | signflip:F | nan | max-float | inflate-samples:N | label-flip:CLASS | scaffold-c:F | pose-minority:F | fast, comma-separated to combine';

/** Parses e.g. "signflip:4,inflate-samples:1e9"; throws with a reason on anything else. */
export function parseAttacks(text: string): Attack[] {
  const parts = text.split(',').map((p) => p.trim());
  if (parts.length === 0 || parts.some((p) => p === '')) throw new Error(`empty attack in "${text}"`);
  return parts.map((part) => {
    const [kind, arg, ...rest] = part.split(':');
    if (rest.length > 0) throw new Error(`attack "${part}" has more than one argument`);
    const value = arg === undefined ? NaN : Number(arg);
    const needs = (what: string, ok: boolean) => {
      if (arg === undefined || arg.trim() === '' || !ok) throw new Error(`attack "${kind}" needs ${what}, got "${part}"`);
    };
    switch (kind) {
      case 'scale':
      case 'signflip':
      case 'scaffold-c':
      case 'pose-minority':
        needs(`a finite factor (e.g. ${kind}:2)`, Number.isFinite(value));
        return { kind, factor: value };
      case 'inflate-samples':
        needs('a positive integer sample count (e.g. inflate-samples:1e9)', Number.isSafeInteger(value) && value > 0);
        return { kind, samples: value };
      case 'label-flip':
        needs('a class index, a non-negative integer (e.g. label-flip:0)', Number.isSafeInteger(value) && value >= 0);
        return { kind, label: value };
      case 'nan':
      case 'max-float':
      case 'fast':
        if (arg !== undefined) throw new Error(`attack "${kind}" takes no argument, got "${part}"`);
        return { kind };
      default:
        throw new Error(`unknown attack "${kind}" (use ${ATTACK_SYNTAX})`);
    }
  });
}

/** Why these attacks cannot run with this strategy and data (null: they can). */
export function attackProblem(attacks: readonly Attack[], strategy: string, numClasses?: number): string | null {
  for (const a of attacks) {
    if (a.kind === 'scaffold-c' && strategy !== 'scaffold') return `attack scaffold-c needs --strategy scaffold (it replaces SCAFFOLD's delta-c), not ${strategy}`;
    if (a.kind === 'label-flip' && numClasses !== undefined && a.label >= numClasses) return `attack label-flip:${a.label} names no class of the data (classes 0..${numClasses - 1})`;
  }
  return null;
}

/** The attacker slots among `clients`, chosen by the seed alone (same seed, same attackers). */
export function chooseAttackers(clients: number, attackers: number, seed: number): Set<number> {
  if (!(Number.isInteger(attackers) && attackers >= 0 && attackers <= clients)) throw new Error(`cannot choose ${attackers} attackers among ${clients} clients`);
  const slots = Array.from({ length: clients }, (_, i) => i);
  return new Set(new Rng(seed * 7717 + 4243).shuffle(slots).slice(0, attackers));
}


/** The attacker's training data: every label replaced by a label-flip's class (the last one wins); else `data` itself. */
export function poisonTrainingData<T extends Dataset>(data: T, attacks: readonly Attack[] | undefined): T {
  const flip = [...(attacks ?? [])].reverse().find((a) => a.kind === 'label-flip');
  if (!flip) return data;
  if (flip.label >= data.numClasses) throw new Error(`attack label-flip:${flip.label} names no class of the data (classes 0..${data.numClasses - 1})`);
  return { ...data, labels: new Int32Array(data.labels.length).fill(flip.label) };
}

function mapDelta(delta: WeightSet, f: (x: number) => number): WeightSet {
  return delta.map((t) => ({ name: t.name, shape: [...t.shape], values: t.values.map(f) }));
}

function norm(w: WeightSet): number {
  let s = 0;
  for (const t of w) for (const x of t.values) s += x * x;
  return Math.sqrt(s);
}

/** A unit-norm direction of `like`'s layout, a function of the seed and the layout alone. */
export function fixedDirection(like: WeightSet, seed: number): WeightSet {
  const rng = new Rng(seed * 9973 + 6007);
  const raw = like.map((t) => ({ name: t.name, shape: [...t.shape], values: Float32Array.from(t.values, () => rng.normal()) }));
  const n = norm(raw);
  return mapDelta(raw, (x) => x / n);
}

function attackControlDelta(response: TrainResponse, factor: number, seed: number): TrainResponse {
  const honest = response.extras?.[SCAFFOLD_NAMES.update];
  if (!honest) throw new Error(`attack scaffold-c: the update carries no ${SCAFFOLD_NAMES.update} (it needs the SCAFFOLD strategy)`);
  const length = factor * norm(honest);
  const forged = mapDelta(fixedDirection(honest, seed), (x) => x * length);
  return { ...response, extras: { ...response.extras, [SCAFFOLD_NAMES.update]: forged } };
}

/**
 * What an attacker reports instead of its honest response. `seed` fixes scaffold-c's direction (the simulation's
 * seed: every attacker pushes the same way). label-flip changes nothing here: it acted on the training data (as
 * pose-minority's cut of the shard did; here it scales), and fast acts on the simulated clock.
 */
export function applyAttacks(response: TrainResponse, attacks: readonly Attack[], seed = 0): TrainResponse {
  let out = response;
  for (const a of attacks) {
    switch (a.kind) {
      case 'scale':
      case 'pose-minority':
        out = { ...out, delta: mapDelta(out.delta, (x) => x * a.factor) };
        break;
      case 'signflip':
        out = { ...out, delta: mapDelta(out.delta, (x) => -x * a.factor) };
        break;
      case 'nan':
        out = { ...out, delta: mapDelta(out.delta, () => NaN) };
        break;
      case 'max-float':
        out = { ...out, delta: mapDelta(out.delta, (x) => (x < 0 ? -MAX_FLOAT32 : MAX_FLOAT32)) };
        break;
      case 'inflate-samples':
        out = { ...out, numSamples: a.samples };
        break;
      case 'scaffold-c':
        out = attackControlDelta(out, a.factor, seed);
        break;
      case 'label-flip':
      case 'fast':
        break;
    }
  }
  return out === response ? { ...response } : out;
}

/**
 * A LocalTrainer that trains and evaluates honestly but reports poisoned updates (and sample counts). Wrap it around
 * a trainer built on poisonTrainingData(...) for the data-poisoning attacks.
 */
export class AttackingTrainer implements LocalTrainer {
  constructor(
    private readonly inner: LocalTrainer,
    private readonly attacks: readonly Attack[],
    private readonly seed = 0,
  ) {}

  async train(req: TrainRequest, hooks?: TrainHooks): Promise<TrainResponse> {
    const honest = await this.inner.train(req, hooks);
    return honest.cancelled ? honest : applyAttacks(honest, this.attacks, this.seed);
  }

  evaluate(model: ModelSpec, weightSets: WeightSet[]): Promise<EvaluateResponse> {
    return this.inner.evaluate(model, weightSets);
  }

  async info(): Promise<TrainerInfo> {
    const info = await this.inner.info();
    const inflate = [...this.attacks].reverse().find((a) => a.kind === 'inflate-samples');
    return inflate ? { ...info, numSamples: inflate.samples } : info;
  }
}
