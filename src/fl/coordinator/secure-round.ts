/**
 * The aggregator's side of one secure-aggregation round in a live session, over the transport: SecAggServer's
 * steps (./../secagg/secagg-server.ts) driven by messages and by deadlines on the coordinator's clock, so that no step
 * waits for ever on a client that vanished.
 *
 * 1. keys: the invited clients advertise fresh keys while they start training; the step closes when all did, or
 *    after `stepMs`. Each advertiser then gets its setup (the graph and its neighbours' keys).
 * 2. shares: each client seals one share pair per neighbour; the step closes when all did, or after `stepMs`. Each
 *    client that shared gets its inbox (the shares sealed for it); the others cannot take part any more.
 * 3. masked: each client sends its masked contribution when it has trained, until the round's own deadline.
 * 4. unmask (finish): the survivors are asked for the shares that remove the masks; after all answered or `stepMs`,
 *    the sum is rebuilt, or the round fails with the reason (too few shares came back).
 * Every message is checked against the step and the sender before SecAggServer sees it; a refused one is reported.
 */
import type { Clock } from './clock';
import type { LocalMetrics, Message, SecAggMessage } from '../protocol';
import { PROTOCOL_VERSION } from '../protocol';
import { SecAggServer, unmaskSum, type UnmaskJob } from '../secagg/secagg-server';
import type { SealedShare, UnmaskResponse } from '../secagg/messages';
import { ringOf } from '../private-party';
import { assertNever } from '../exhaustive';

export type SecureStep = 'keys' | 'shares' | 'masked' | 'unmask' | 'done';

export interface SecureRoundOptions {
  assignment: number;
  invited: readonly string[];
  /** Values per contribution. */
  length: number;
  graphSeed: number;
  clock: Clock;
  /** Deadline of the keys, shares and unmask steps. */
  stepMs: number;
  send: (to: string, message: Message) => void;
  /** A client can no longer contribute to this round (its assignment closes), with the reason. */
  leftOut: (clientId: string, reason: string) => void;
  /** Something changed that a waiting condition may be about. */
  changed: () => void;
}

export interface SecureSum {
  sum: Uint32Array;
  survivors: string[];
  metrics: Map<string, LocalMetrics>;
  /** Clients that shared their secrets but sent no masked input (their masks were removed with their neighbours' help). */
  dropped: string[];
}

export class SecureRound {
  private readonly server: SecAggServer;
  private step: SecureStep = 'keys';
  private readonly advertised = new Set<string>();
  private setUp: string[] = [];
  private readonly shared = new Set<string>();
  private readonly inboxes = new Map<string, SealedShare[]>();
  private readonly masked = new Map<string, LocalMetrics>();
  private readonly responses = new Map<string, UnmaskResponse>();
  private survivors: string[] = [];
  private cancelTimer: () => void;
  private failure: string | null = null;
  /** Invited clients that left the session meanwhile: no step waits for them. */
  private readonly gone = new Set<string>();

  constructor(private readonly options: SecureRoundOptions) {
    this.server = new SecAggServer({ sessionId: 'fedtab', round: options.assignment, length: options.length, invited: options.invited, graphSeed: options.graphSeed });
    this.cancelTimer = options.clock.after(options.stepMs, () => this.closeKeys());
  }

  get assignment(): number {
    return this.options.assignment;
  }

  get currentStep(): SecureStep {
    return this.step;
  }

  /** Clients the round was set up with (the fixed-point plan is sized for them). */
  get setUpCount(): number {
    return this.setUp.length;
  }

  /** Masked inputs received so far. */
  get maskedCount(): number {
    return this.masked.size;
  }

  /** Why the round cannot produce a sum any more (null: it still can). */
  get failed(): string | null {
    return this.failure;
  }

  /**
   * One client message: the step it accepted (a masked input, 'masked', answers that client's assignment), or why it
   * was refused.
   */
  handle(from: string, m: SecAggMessage): { refused: string } | { accepted: SecAggMessage['step'] } {
    if (m.assignment !== this.options.assignment) return { refused: `secure-aggregation step for assignment ${m.assignment}, the round is ${this.options.assignment}` };
    if (!this.options.invited.includes(from)) return { refused: 'secure-aggregation step from a client not asked in this round' };
    if (m.step !== this.expected(m.step)) return { refused: `secure-aggregation step "${m.step}" while the round is at "${this.step}"` };
    try {
      switch (m.step) {
        case 'keys':
          this.server.receiveAdvertisement({ clientId: from, channelKey: m.channelKey, maskKey: m.maskKey });
          this.advertised.add(from);
          if (this.allOf(this.options.invited, this.advertised)) this.closeKeys();
          break;
        case 'shares': {
          const routed = this.server.receiveShares(
            from,
            m.shares.map((s) => ({ from, to: s.to, box: s.box })),
          );
          this.shared.add(from);
          for (const s of routed) this.inboxes.set(s.to, [...(this.inboxes.get(s.to) ?? []), s]);
          if (this.allOf(this.setUp, this.shared)) this.closeShares();
          break;
        }
        case 'masked':
          if (m.masked.byteLength !== 4 * this.options.length) return { refused: `masked input of ${m.masked.byteLength} bytes, the round expects ${4 * this.options.length}` };
          this.server.receiveMasked({ clientId: from, masked: ringOf(m.masked) });
          this.masked.set(from, m.metrics);
          break;
        case 'reveal':
          if (!this.survivors.includes(from)) return { refused: 'unmask shares from a client that is not a survivor' };
          if (this.responses.has(from)) return { refused: 'a second set of unmask shares' };
          this.responses.set(from, { clientId: from, selfMaskShares: m.selfMaskShares, maskKeyShares: m.maskKeyShares });
          break;
        default:
          return assertNever(m, 'secure-aggregation step');
      }
    } catch (e) {
      return { refused: e instanceof Error ? e.message : String(e) };
    }
    this.options.changed();
    return { accepted: m.step };
  }

  /** A client left the session: the step under way stops waiting for it (a dropped client's masks are still removed). */
  clientLeft(id: string): void {
    if (!this.options.invited.includes(id) || this.gone.has(id)) return;
    this.gone.add(id);
    if (this.step === 'keys' && this.allOf(this.options.invited, this.advertised)) this.closeKeys();
    else if (this.step === 'shares' && this.allOf(this.setUp, this.shared)) this.closeShares();
    this.options.changed();
  }

  /** Whether every one of `ids` still in the session is in `done`. */
  private allOf(ids: readonly string[], done: { has(id: string): boolean }): boolean {
    return ids.every((id) => done.has(id) || this.gone.has(id));
  }

  /** The step a message of kind `step` belongs to now: itself when it is the current one. */
  private expected(step: SecAggMessage['step']): SecAggMessage['step'] | null {
    const now: Record<SecureStep, SecAggMessage['step'] | null> = { keys: 'keys', shares: 'shares', masked: 'masked', unmask: 'reveal', done: null };
    return now[this.step] === step ? step : null;
  }

  private closeKeys(): void {
    if (this.step !== 'keys') return;
    this.cancelTimer();
    this.step = 'shares';
    for (const id of this.options.invited) if (!this.advertised.has(id)) this.options.leftOut(id, 'left out of the secure round: its keys did not arrive in time');
    let setups;
    try {
      setups = this.server.setups();
    } catch (e) {
      return this.fail(e instanceof Error ? e.message : String(e));
    }
    this.setUp = [...setups.keys()];
    for (const [id, setup] of setups) {
      this.options.send(id, { type: 'secagg-round', v: PROTOCOL_VERSION, assignment: this.options.assignment, step: 'setup', you: id, clients: setup.clients, graphSeed: setup.graphSeed, degree: setup.degree, threshold: setup.threshold, neighbourKeys: setup.neighbourKeys });
    }
    this.cancelTimer = this.options.clock.after(this.options.stepMs, () => this.closeShares());
    this.options.changed();
  }

  private closeShares(): void {
    if (this.step !== 'shares') return;
    this.cancelTimer();
    this.step = 'masked';
    for (const id of this.setUp) {
      if (!this.shared.has(id)) {
        this.options.leftOut(id, 'left out of the secure round: its shares did not arrive in time');
        continue;
      }
      const shares = (this.inboxes.get(id) ?? []).filter((s) => this.shared.has(s.from)).map((s) => ({ from: s.from, box: s.box }));
      this.options.send(id, { type: 'secagg-round', v: PROTOCOL_VERSION, assignment: this.options.assignment, step: 'inbox', shares });
    }
    if (this.shared.size < 2) this.fail(`only ${this.shared.size} client(s) shared their secrets in time, at least 2 needed`);
    this.options.changed();
  }

  private fail(reason: string): void {
    this.failure = `secure aggregation failed: ${reason}`;
    this.step = 'done';
    for (const id of this.options.invited) if (!this.masked.has(id)) this.options.leftOut(id, this.failure);
    this.options.changed();
  }

  /**
   * Closes the masked step and runs the unmask step: asks the survivors for their shares, waits for all of them or
   * stepMs (with `waitUntil`, the coordinator's), and rebuilds the sum. Throws with the reason when it cannot.
   */
  async finish(waitUntil: (done: () => boolean, ms: number) => Promise<boolean>, unmask: (job: UnmaskJob) => Promise<Uint32Array> = unmaskSum): Promise<SecureSum> {
    this.cancelTimer();
    if (this.failure) throw new Error(this.failure);
    if (this.step === 'keys') this.closeKeys();
    if (this.step === 'shares') this.closeShares();
    if (this.failure) throw new Error(this.failure);
    this.step = 'unmask';
    const request = this.server.unmaskRequest();
    this.survivors = request.survivors;
    for (const id of request.survivors) this.options.send(id, { type: 'secagg-round', v: PROTOCOL_VERSION, assignment: this.options.assignment, step: 'unmask', survivors: request.survivors, dropped: request.dropped });
    await waitUntil(() => this.allOf(this.survivors, this.responses), this.options.stepMs);
    this.step = 'done';
    try {
      const sum = await unmask(this.server.unmaskJob([...this.responses.values()]));
      return { sum, survivors: request.survivors, metrics: this.masked, dropped: request.dropped };
    } catch (e) {
      throw new Error(`secure aggregation failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  dispose(): void {
    this.cancelTimer();
    this.step = 'done';
  }
}
