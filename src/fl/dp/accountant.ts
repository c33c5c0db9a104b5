/**
 * The session's privacy ledger: every aggregated round is one step of the subsampled Gaussian mechanism, with the
 * round's own sampling rate and the noise multiplier its sum actually carried. It answers what (eps, delta) the
 * session has spent, and whether one more round would pass a budget.
 */
import { DEFAULT_ORDERS, epsilonFromRdp, sampledGaussianRdp } from './rdp';

export interface PrivacySpent {
  epsilon: number;
  delta: number;
  /** The RDP order that gave the bound. */
  order: number;
  rounds: number;
}

/** A ledger's whole state: the rounds recorded and their composed RDP at each order (what a successor continues). */
export interface LedgerState {
  rounds: number;
  rdp: number[];
}

export class RdpAccountant {
  private readonly rdp: number[];
  private steps = 0;

  constructor(readonly delta: number, private readonly orders: readonly number[] = DEFAULT_ORDERS) {
    if (!(delta > 0 && delta < 1)) throw new RangeError(`accountant: delta ${delta} is not in (0, 1)`);
    this.rdp = orders.map(() => 0);
  }

  get state(): LedgerState {
    return { rounds: this.steps, rdp: [...this.rdp] };
  }

  /** Continues from another ledger's state (a handover); one of another length of orders is refused. */
  adopt(state: LedgerState): void {
    if (state.rdp.length !== this.rdp.length || !state.rdp.every((x) => Number.isFinite(x) && x >= 0) || !(Number.isInteger(state.rounds) && state.rounds >= 0)) {
      throw new RangeError(`accountant: a ledger state of ${state.rdp.length} orders does not fit this one's ${this.rdp.length}`);
    }
    state.rdp.forEach((x, i) => (this.rdp[i] = x));
    this.steps = state.rounds;
  }

  /** Records one round: sampling rate q and the noise multiplier the round's sum carried. */
  record(q: number, sigma: number): void {
    this.orders.forEach((a, i) => (this.rdp[i] += sampledGaussianRdp(q, sigma, a)));
    this.steps++;
  }

  spent(): PrivacySpent {
    if (this.steps === 0) return { epsilon: 0, delta: this.delta, order: this.orders[0], rounds: 0 };
    return { ...epsilonFromRdp(this.rdp, this.delta, this.orders), delta: this.delta, rounds: this.steps };
  }

  /** What the session would have spent after one more round at (q, sigma); records nothing. */
  preview(q: number, sigma: number): PrivacySpent {
    const next = this.orders.map((a, i) => this.rdp[i] + sampledGaussianRdp(q, sigma, a));
    return { ...epsilonFromRdp(next, this.delta, this.orders), delta: this.delta, rounds: this.steps + 1 };
  }
}
