/**
 * Model-poisoning attacks for the simulator: a wrapper around an attacker client's LocalTrainer that trains
 * honestly and then transforms what it reports (the update and the sample counts). The engine, the client and the
 * strategies stay exactly those of the app.
 */
import type { ModelSpec } from '../fl/models';
import type { EvaluateResponse, LocalTrainer, TrainerInfo, TrainRequest, TrainResponse } from '../fl/local-trainer';
import { Rng } from '../fl/rng';
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
  | { kind: 'inflate-samples'; samples: number };

export interface AttackConfig {
  /** How many clients attack; which ones follows from the seed (chooseAttackers). */
  attackers: number;
  attacks: Attack[];
}

export const ATTACK_SYNTAX = 'scale:F | signflip:F | nan | max-float | inflate-samples:N, comma-separated to combine';

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
        needs('a finite factor (e.g. scale:1e6)', Number.isFinite(value));
        return { kind, factor: value };
      case 'inflate-samples':
        needs('a positive integer sample count (e.g. inflate-samples:1e9)', Number.isSafeInteger(value) && value > 0);
        return { kind, samples: value };
      case 'nan':
      case 'max-float':
        if (arg !== undefined) throw new Error(`attack "${kind}" takes no argument, got "${part}"`);
        return { kind };
      default:
        throw new Error(`unknown attack "${kind}" (use ${ATTACK_SYNTAX})`);
    }
  });
}

/** The attacker slots among `clients`, chosen by the seed alone (same seed, same attackers). */
export function chooseAttackers(clients: number, attackers: number, seed: number): Set<number> {
  if (!(Number.isInteger(attackers) && attackers >= 0 && attackers <= clients)) throw new Error(`cannot choose ${attackers} attackers among ${clients} clients`);
  const slots = Array.from({ length: clients }, (_, i) => i);
  return new Set(new Rng(seed * 7717 + 4243).shuffle(slots).slice(0, attackers));
}

function mapDelta(delta: WeightSet, f: (x: number) => number): WeightSet {
  return delta.map((t) => ({ name: t.name, shape: [...t.shape], values: t.values.map(f) }));
}

/** What an attacker reports instead of its honest response. */
export function applyAttacks(response: TrainResponse, attacks: readonly Attack[]): TrainResponse {
  let { delta, numSamples } = response;
  for (const a of attacks) {
    switch (a.kind) {
      case 'scale':
        delta = mapDelta(delta, (x) => x * a.factor);
        break;
      case 'signflip':
        delta = mapDelta(delta, (x) => -x * a.factor);
        break;
      case 'nan':
        delta = mapDelta(delta, () => NaN);
        break;
      case 'max-float':
        delta = mapDelta(delta, (x) => (x < 0 ? -MAX_FLOAT32 : MAX_FLOAT32));
        break;
      case 'inflate-samples':
        numSamples = a.samples;
        break;
    }
  }
  return { ...response, delta, numSamples };
}

/** A LocalTrainer that trains and evaluates honestly but reports poisoned updates (and sample counts). */
export class AttackingTrainer implements LocalTrainer {
  constructor(
    private readonly inner: LocalTrainer,
    private readonly attacks: readonly Attack[],
  ) {}

  async train(req: TrainRequest, hooks?: TrainHooks): Promise<TrainResponse> {
    const honest = await this.inner.train(req, hooks);
    return honest.cancelled ? honest : applyAttacks(honest, this.attacks);
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
