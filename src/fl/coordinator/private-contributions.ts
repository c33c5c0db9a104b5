/**
 * The coordinator's private-session half: the recipe each round's clients build their contributions by, the running
 * secure round (./secure-round.ts), and the mean of its sum once unmasked. The Coordinator keeps the registry, the
 * assignments and the buffer, and asks this for the rest (see docs/architecture.md, "How a private round travels").
 */
import { perClientNoiseStd } from '../dp/clip-noise';
import type { Message, ContributionSpecWire, LocalMetrics, SecAggMessage } from '../protocol';
import { contributionLength, contributionPlan, privacyProblem, privateMeanOfSum, privateUpdateProblem, type PrivacySettings } from '../private-aggregation';
import type { RobustMode } from '../robust';
import { dequantise } from '../secagg/fixed-point';
import type { UnmaskJob } from '../secagg/secagg-server';
import type { ClientUpdate, StrategyConfig } from '../strategies/types';
import { strategyWireSets } from '../strategies/wire-sets';
import type { WeightSet } from '../weights';
import type { Clock } from './clock';
import { SecureRound } from './secure-round';

export interface PrivateContributionsOptions {
  strategy: StrategyConfig;
  robust: RobustMode;
  seed: number;
  clock: Clock;
  /** Deadline of a secure round's short steps. */
  stepMs: number;
  send: (to: string, message: Message) => void;
  /** The sample count a connected client declared (caps the weights), or undefined. */
  declaredSamples: (id: string) => number | undefined;
  /** A client of `assignment` can no longer contribute to it, with the reason. */
  leftOut: (assignment: number, id: string, reason: string) => void;
  changed: () => void;
}

/** What a secure round's sum gave: the survivors, each one's metrics, and the weighted mean of their contributions. */
export type UnmaskedRound =
  | { ok: true; survivors: string[]; metrics: Map<string, LocalMetrics>; mean: { delta: WeightSet; extras: Record<string, WeightSet> } }
  | { ok: false; reason: string };

export class PrivateContributions {
  private secure: SecureRound | null = null;
  /** The names of the extras a contribution carries after the delta (the strategy's). */
  readonly updateExtras: readonly string[];

  constructor(
    readonly settings: PrivacySettings,
    private readonly o: PrivateContributionsOptions,
  ) {
    const problem = privacyProblem(settings, o.strategy, o.robust);
    if (problem) throw new Error(problem);
    this.updateExtras = strategyWireSets(o.strategy).updateExtras;
  }

  /** Whether a secure round runs (its participants are fixed: no one joins it late). */
  get secureRoundRuns(): boolean {
    return this.secure !== null;
  }

  /** Masked inputs the running secure round received. */
  get maskedCount(): number {
    return this.secure?.maskedCount ?? 0;
  }

  /** A round's public recipe for `ids`: clip norm, each client's noise share, the weights' cap, secure or not. */
  recipe(ids: readonly string[]): ContributionSpecWire {
    const s = this.settings;
    const uniform = s.noiseMultiplier > 0 || this.o.strategy.weighting === 'uniform';
    const maxWeight = uniform ? 1 : Math.max(1, ...ids.map((id) => this.o.declaredSamples(id) ?? 1));
    return { clipNorm: s.clipNorm, noiseStd: perClientNoiseStd(s.noiseMultiplier, s.clipNorm, Math.max(1, ids.length)), maxWeight, uniform, secure: s.secureAggregation };
  }

  /** Opens the secure round of `assignment` (replacing any other). */
  openSecureRound(assignment: number, ids: readonly string[], base: WeightSet): void {
    this.secure?.dispose();
    this.secure = new SecureRound({
      assignment,
      invited: [...ids],
      length: contributionLength(base, this.updateExtras.length),
      // Public: clients check the graph it gives against the degree and threshold they require.
      graphSeed: (Math.imul(this.o.seed, 2654435761) + assignment) >>> 0,
      clock: this.o.clock,
      stepMs: this.o.stepMs,
      send: this.o.send,
      leftOut: (id, reason) => this.o.leftOut(assignment, id, reason),
      changed: this.o.changed,
    });
  }

  /** A client's secure-aggregation step: refused with the reason, or accepted (a masked input answers its assignment). */
  accept(from: string, msg: SecAggMessage): { refused: string } | { accepted: SecAggMessage['step'] } {
    if (!this.secure) return { refused: `secure-aggregation step "${msg.step}" while no secure round runs` };
    return this.secure.handle(from, msg);
  }

  /** Client-level DP without secure aggregation: why a plain update is not what its client was asked for, or null. */
  updateProblem(update: Pick<ClientUpdate, 'delta' | 'extras' | 'numSamples'>, recipe: ContributionSpecWire): string | null {
    return privateUpdateProblem(update, recipe);
  }

  clientLeft(id: string): void {
    this.secure?.clientLeft(id);
  }

  /** Drops the running secure round (a round that failed, or a coordinator disposed). */
  discard(): void {
    this.secure?.dispose();
    this.secure = null;
  }

  /**
   * Ends the running secure round, of `assignment` asked with `recipe`: unmasks its sum (with `unmask`, e.g. in a
   * worker) and checks it. `waitUntil` is the coordinator's, for the survivors' revealed shares.
   */
  async unmask(
    assignment: number,
    recipe: ContributionSpecWire,
    base: WeightSet,
    waitUntil: (done: () => boolean, ms: number) => Promise<boolean>,
    unmask?: (job: UnmaskJob) => Promise<Uint32Array>,
  ): Promise<UnmaskedRound> {
    const round = this.secure;
    if (!round) return { ok: false, reason: 'secure aggregation failed: no secure round runs' };
    let result;
    try {
      if (round.assignment !== assignment) throw new Error('secure aggregation failed: its assignment is no longer the latest');
      // (Still the running round while it finishes: the survivors' revealed shares come to it.)
      result = await round.finish(waitUntil, unmask);
    } catch (e) {
      return { ok: false, reason: e instanceof Error ? e.message : String(e) };
    } finally {
      if (this.secure === round) this.secure = null;
    }
    try {
      const sum = dequantise(result.sum, contributionPlan(recipe, round.setUpCount));
      return { ok: true, survivors: result.survivors, metrics: result.metrics, mean: privateMeanOfSum(sum, base, this.updateExtras, recipe, result.survivors.length) };
    } catch (e) {
      return { ok: false, reason: `secure aggregation failed: ${e instanceof Error ? e.message : String(e)}` };
    }
  }
}
