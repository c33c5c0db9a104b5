/**
 * The simulator's private rounds (--secagg, --dp-*). They run as in a live session: the round engine asks for private
 * contributions, every simulated client's FlClient clips, noises and (with secure aggregation) masks its update with
 * its own LocalPrivateParty, and the secure-aggregation steps travel as messages over the in-memory network. The
 * engine's ledger charges every round towards whoever sees the models; this one adds a second ledger, for the
 * aggregating tab, which chose the sample and, without secure aggregation, sees each update with only that client's
 * share of the noise.
 */
import { RdpAccountant } from '../fl/dp/accountant';
import { perClientNoiseStd } from '../fl/dp/clip-noise';
import type { RoundPrivacy as EngineRoundPrivacy } from '../fl/engine';
import { LocalPrivateParty } from '../fl/private-party';
import { privacyProblem, type PrivacySettings } from '../fl/private-aggregation';
import { robustSettings, type RobustMode, type RobustSettings } from '../fl/robust';
import { Rng } from '../fl/rng';
import type { StrategyConfig } from '../fl/strategies/types';

/** What one round spent, in the simulator's table and JSON. */
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
  secure: boolean;
}

export interface PrivacySummary {
  settings: PrivacySettings;
  epsilon: number | null;
  epsilonAggregator: number | null;
  delta: number;
  /** Why the run stopped before its last round (the budget), or null. */
  stopped: string | null;
}

export class PrivateRounds {
  private readonly aggregator: RdpAccountant | null;
  private epsilon: number | null = null;
  stopped: string | null = null;

  constructor(
    readonly settings: PrivacySettings,
    private readonly cfg: { seed: number; strategy: StrategyConfig; robust: RobustMode | Partial<RobustSettings> },
  ) {
    const problem = privacyProblem(settings, cfg.strategy, robustSettings(cfg.robust).mode);
    if (problem) throw new Error(problem);
    this.aggregator = settings.noiseMultiplier > 0 ? new RdpAccountant(settings.delta) : null;
  }

  /** Simulated client k's party: its noise from a generator seeded by the run's seed and k (same seed, same run). */
  partyOf(k: number): LocalPrivateParty {
    return new LocalPrivateParty(new Rng((Math.imul(this.cfg.seed, 1_000_003) + 7919 * (k + 1)) >>> 0));
  }

  /** A round counted (the engine's report): charges the aggregator's ledger with what it saw. */
  roundCounted(p: EngineRoundPrivacy): RoundPrivacy {
    if (this.aggregator) {
      // The aggregating tab knows who was asked (no amplification); without secure aggregation it sees each update
      // carrying one client's noise share only.
      const share = perClientNoiseStd(this.settings.noiseMultiplier, 1, Math.max(1, p.selected));
      this.aggregator.record(1, p.secure ? p.noiseMultiplier : share);
    }
    this.epsilon = p.epsilon;
    return {
      epsilon: p.epsilon,
      epsilonAggregator: this.aggregator?.spent().epsilon ?? null,
      delta: p.delta,
      samplingRate: p.samplingRate,
      noiseMultiplier: p.noiseMultiplier,
      survivors: p.survivors,
      secure: p.secure,
    };
  }

  summary(): PrivacySummary {
    return { settings: this.settings, epsilon: this.epsilon, epsilonAggregator: this.aggregator?.spent().epsilon ?? null, delta: this.settings.delta, stopped: this.stopped };
  }
}
