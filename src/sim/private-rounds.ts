/**
 * The simulator's private rounds (--secagg, --dp-*): the engine's aggregation hook runs privateAggregateRound (each
 * client's clipping, noise share and masking, then the secure-aggregation round and the strategy's step), and two
 * RDP ledgers charge every round that counts: one for whoever sees the models (the round's sampling rate amplifies
 * the noise) and one for the aggregating tab, which chose the sample and, without secure aggregation, sees each
 * update with only that client's share of the noise.
 */
import type { AggregationJob, AggregationOutcome } from '../fl/aggregate-round';
import { RdpAccountant } from '../fl/dp/accountant';
import { perClientNoiseStd } from '../fl/dp/clip-noise';
import { privacyProblem, privateAggregateRound, type PrivacySettings, type PrivateRoundStats } from '../fl/private-aggregation';
import { robustSettings, type RobustMode, type RobustSettings } from '../fl/robust';
import { Rng } from '../fl/rng';
import type { StrategyConfig } from '../fl/strategies/types';

/** What one round spent and cost, in the simulator's table and JSON. */
export interface RoundPrivacy {
  /** (eps, delta) spent so far towards whoever sees the global models (null: no DP noise). */
  epsilon: number | null;
  /** The same towards the aggregating tab. */
  epsilonAggregator: number | null;
  delta: number;
  samplingRate: number;
  /** The noise multiplier the round's sum carried. */
  noiseMultiplier: number;
  survivors: number;
  clientsClipped: number;
  clamped: number;
  secagg: PrivateRoundStats['secagg'];
}

export interface PrivacySummary {
  settings: PrivacySettings;
  epsilon: number | null;
  epsilonAggregator: number | null;
  delta: number;
  /** Why the run stopped before its last round (the budget), or null. */
  stopped: string | null;
}

function clientSeed(seed: number, round: number, clientId: string): number {
  let h = (seed * 1_000_003 + round * 7919) >>> 0;
  for (let i = 0; i < clientId.length; i++) h = Math.imul(h ^ clientId.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

export class PrivateRounds {
  private readonly models: RdpAccountant | null;
  private readonly aggregator: RdpAccountant | null;
  private selected = 0;
  private last: PrivateRoundStats | null = null;
  stopped: string | null = null;

  constructor(
    readonly settings: PrivacySettings,
    private readonly cfg: { seed: number; clients: number; strategy: StrategyConfig; robust: RobustMode | Partial<RobustSettings> },
  ) {
    const problem = privacyProblem(settings, cfg.strategy, robustSettings(cfg.robust).mode);
    if (problem) throw new Error(problem);
    this.models = settings.noiseMultiplier > 0 ? new RdpAccountant(settings.delta) : null;
    this.aggregator = settings.noiseMultiplier > 0 ? new RdpAccountant(settings.delta) : null;
  }

  /** The engine's 'round-started' event: the noise shares are sized for the clients asked. */
  roundStarted(selected: readonly string[]): void {
    this.selected = selected.length;
  }

  readonly aggregate = async (job: AggregationJob): Promise<AggregationOutcome> => {
    const { outcome, stats } = await privateAggregateRound(job, this.settings, {
      sessionId: `sim-${this.cfg.seed}`,
      selected: Math.max(this.selected, job.updates.length),
      noiseFor: (id) => new Rng(clientSeed(this.cfg.seed, job.round, id)),
      graphSeed: clientSeed(this.cfg.seed, job.round, 'graph'),
    });
    this.last = stats;
    return outcome;
  };

  /**
   * Before a round that asks `planned` of the clients: why it must not run (it would take eps past the budget), or
   * null. The preview assumes every asked client's share arrives; dropouts make a round's noise smaller and its
   * cost higher, which the ledger charges as it was.
   */
  budgetStop(planned: number): string | null {
    const budget = this.settings.budget;
    if (!this.models || budget === null) return null;
    const next = this.models.preview(planned / this.cfg.clients, this.settings.noiseMultiplier);
    if (next.epsilon <= budget) return null;
    this.stopped = `the privacy budget eps ${budget} is spent: round ${next.rounds} would reach eps ${next.epsilon.toFixed(3)} (delta ${this.settings.delta})`;
    return this.stopped;
  }

  /** A round counted: charges both ledgers with what its sum carried. */
  roundCounted(): RoundPrivacy {
    const s = this.last;
    if (!s) throw new Error('private rounds: a round counted without a private aggregation');
    this.last = null;
    if (this.models && this.aggregator) {
      this.models.record(s.samplingRate, s.noiseMultiplier);
      // The aggregating tab knows who was asked (no amplification); without secure aggregation it sees each update
      // carrying one client's noise share only.
      const share = perClientNoiseStd(this.settings.noiseMultiplier, 1, this.selected);
      this.aggregator.record(1, this.settings.secureAggregation ? s.noiseMultiplier : share);
    }
    return {
      epsilon: this.models?.spent().epsilon ?? null,
      epsilonAggregator: this.aggregator?.spent().epsilon ?? null,
      delta: this.settings.delta,
      samplingRate: s.samplingRate,
      noiseMultiplier: s.noiseMultiplier,
      survivors: s.survivors,
      clientsClipped: s.clientsClipped,
      clamped: s.clamped,
      secagg: s.secagg,
    };
  }

  summary(): PrivacySummary {
    return {
      settings: this.settings,
      epsilon: this.models?.spent().epsilon ?? null,
      epsilonAggregator: this.aggregator?.spent().epsilon ?? null,
      delta: this.settings.delta,
      stopped: this.stopped,
    };
  }
}
