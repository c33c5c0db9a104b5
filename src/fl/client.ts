import type { LocalTrainer } from './local-trainer';
import type { EvalRequestMessage, Message, RoundResultMessage, RoundStartMessage, SecAggRoundMessage } from './protocol';
import type { PrivateParty } from './private-party';
import { contributionLength } from './private-aggregation';
import { strategyWireSets } from './strategies/wire-sets';
import { PROTOCOL_VERSION } from './protocol';
import { assertNever } from './exhaustive';
import { ProgressReporter, trainingFraction } from './progress-report';
import { isFor } from './routing';
import type { TrainHooks, TrainProgress } from './train';
import type { Transport } from './transport';

export interface FlClientOptions {
  name: string;
  /** Sent in every hello (see HelloMessage.clientKey). */
  clientKey?: string;
  onProgress?: (round: number, progress: TrainProgress) => void;
  onRoundResult?: (result: RoundResultMessage) => void;
  onError?: (reason: string) => void;
  /**
   * Takes part in private sessions: clips and noises this client's updates and, with secure aggregation, masks them
   * (in the browser: in the training worker). Without one, a private session's round-start is answered with an error.
   */
  party?: PrivateParty;
  /**
   * Whether this client's hello may carry its label histogram (default: yes). A tab that does not know yet whether
   * its session is private, or knows it is, sends its sample count only.
   */
  shareLabels?: () => boolean;
}

/** The secure round this client takes part in: its shares are in once `inbox` resolves true (false: given up). */
interface SecureRound {
  assignment: number;
  inbox: Promise<boolean>;
  settle: (received: boolean) => void;
}

/**
 * The client side of a session: answers the aggregator's round-start with an update (telling it meanwhile how far
 * training got) and its eval-request with loss values. Only weights, counts, losses and that fraction ever leave
 * through the transport.
 */
export class FlClient {
  private aggregatorId: string;
  /** The newest assignment number seen from the current aggregator: an older round-start still queued is skipped. */
  private latestAssignment = 0;
  private busy: Promise<void> = Promise.resolve();
  /** Secure-aggregation steps run in order among themselves, not behind training (the setup comes while it trains). */
  private secureBusy: Promise<void> = Promise.resolve();
  private secure: SecureRound | null = null;
  private readonly unsubscribe: Array<() => void> = [];

  constructor(
    private readonly transport: Transport,
    aggregatorId: string,
    private readonly trainer: LocalTrainer,
    private readonly options: FlClientOptions,
  ) {
    this.aggregatorId = aggregatorId;
    this.unsubscribe.push(transport.onMessage((from, m) => this.handle(from, m)));
  }

  get aggregator(): string {
    return this.aggregatorId;
  }

  /** Announces this client to the aggregator (again, after a handover). */
  async join(aggregatorId = this.aggregatorId): Promise<void> {
    // An aggregator (a new one, or the same tab after a reload) numbers its assignments afresh from this hello on.
    this.latestAssignment = 0;
    this.aggregatorId = aggregatorId;
    const info = await this.trainer.info();
    this.transport.send(aggregatorId, {
      type: 'hello',
      v: PROTOCOL_VERSION,
      clientName: this.options.name,
      backend: info.backend,
      numSamples: info.numSamples,
      labelHistogram: this.options.shareLabels?.() === false ? [] : info.labelHistogram,
      ...(this.options.clientKey ? { clientKey: this.options.clientKey } : {}),
    });
  }

  leave(reason = 'left'): void {
    this.transport.send(this.aggregatorId, { type: 'bye', v: PROTOCOL_VERSION, reason });
    this.unsubscribe.forEach((u) => u());
  }

  private handle(from: string, message: Message): void {
    if (from !== this.aggregatorId || !isFor(message, 'client')) return;
    switch (message.type) {
      case 'round-start':
        this.latestAssignment = Math.max(this.latestAssignment, message.assignment);
        if (this.secure && this.secure.assignment < message.assignment) this.endSecureRound();
        this.enqueue(() => this.train(message));
        return;
      case 'secagg-round':
        this.secureBusy = this.secureBusy.then(() => this.secureStep(message)).catch((e: unknown) => this.fail(e));
        return;
      case 'eval-request':
        this.enqueue(() => this.evaluate(message));
        return;
      case 'round-result':
        this.options.onRoundResult?.(message);
        return;
      case 'error':
        this.options.onError?.(message.reason);
        return;
      default:
        return assertNever(message, 'client message');
    }
  }

  /** One job at a time: the trainer holds one model. */
  private enqueue(job: () => Promise<void>): void {
    this.busy = this.busy.then(job).catch((e: unknown) => this.fail(e));
  }

  private fail(e: unknown): void {
    const reason = e instanceof Error ? e.message : String(e);
    this.endSecureRound();
    this.options.onError?.(reason);
    this.transport.send(this.aggregatorId, { type: 'error', v: PROTOCOL_VERSION, reason });
  }

  private endSecureRound(): void {
    this.secure?.settle(false);
    this.secure = null;
  }

  /** The aggregator's steps of the open secure round; a step for another round is ignored (it was superseded). */
  private async secureStep(m: SecAggRoundMessage): Promise<void> {
    const round = this.secure;
    const party = this.options.party;
    if (!round || round.assignment !== m.assignment || !party) return;
    switch (m.step) {
      case 'setup': {
        const shares = await party.share(m);
        this.transport.send(this.aggregatorId, { type: 'secagg', v: PROTOCOL_VERSION, assignment: m.assignment, step: 'shares', shares });
        return;
      }
      case 'inbox':
        await party.receive(m.assignment, m.shares);
        round.settle(true);
        return;
      case 'unmask': {
        const revealed = await party.reveal(m);
        this.secure = null;
        this.transport.send(this.aggregatorId, { type: 'secagg', v: PROTOCOL_VERSION, assignment: m.assignment, step: 'reveal', ...revealed });
        return;
      }
      default:
        return assertNever(m, 'secure-aggregation step');
    }
  }

  /** Opens the secure round of `msg` and advertises this client's fresh keys, before it trains. */
  private async openSecureRound(msg: RoundStartMessage, party: PrivateParty): Promise<SecureRound> {
    let settle!: (received: boolean) => void;
    const inbox = new Promise<boolean>((resolve) => (settle = resolve));
    const round: SecureRound = { assignment: msg.assignment, inbox, settle };
    this.endSecureRound();
    this.secure = round;
    const length = contributionLength(msg.weights, strategyWireSets(msg.strategy).updateExtras.length);
    const keys = await party.advertise(msg.assignment, length);
    this.transport.send(this.aggregatorId, { type: 'secagg', v: PROTOCOL_VERSION, assignment: msg.assignment, step: 'keys', ...keys });
    return round;
  }

  private async train(msg: RoundStartMessage): Promise<void> {
    if (msg.assignment < this.latestAssignment) return; // superseded while queued
    // The round this work is for, as people see it: the one after the version it trains from.
    const round = msg.version + 1;
    const reporter = this.progressReporter(msg.assignment);
    const hooks: TrainHooks = {
      onProgress: (p) => {
        this.options.onProgress?.(round, p);
        reporter.report(trainingFraction(p, msg.train.localEpochs));
      },
      shouldCancel: () => this.latestAssignment > msg.assignment,
    };
    const privacy = msg.privacy;
    const party = this.options.party;
    if (privacy && !party) throw new Error('this client cannot take part in private aggregation');
    const secure = privacy?.secure && party ? await this.openSecureRound(msg, party) : null;
    const request = { round, model: msg.model, strategy: msg.strategy, train: msg.train, weights: msg.weights, ...(msg.extras ? { extras: msg.extras } : {}) };
    let result;
    try {
      result = await this.trainer.train(request, hooks);
    } finally {
      reporter.stop();
    }
    if (result.cancelled) return;
    let sent = { delta: result.delta, numSamples: result.numSamples, ...(result.extras ? { extras: result.extras } : {}) };
    if (secure && privacy) {
      // The masks pair this client with the neighbours whose shares reached it: wait for them (or for the round's end).
      if (!(await secure.inbox)) return;
      const { masked } = await party!.mask(msg.assignment, sent, privacy);
      this.transport.send(this.aggregatorId, { type: 'secagg', v: PROTOCOL_VERSION, assignment: msg.assignment, step: 'masked', masked, metrics: result.metrics });
      return;
    }
    if (privacy) sent = (await party!.contribute(sent, privacy)).update;
    this.transport.send(this.aggregatorId, { type: 'update', v: PROTOCOL_VERSION, assignment: msg.assignment, ...sent, metrics: result.metrics });
  }

  /** Progress on `assignment`, throttled, to the aggregator that asked for it (never to anyone else). Best effort. */
  private progressReporter(assignment: number): ProgressReporter {
    const aggregatorId = this.aggregatorId;
    return new ProgressReporter((fraction) => {
      try {
        this.transport.send(aggregatorId, { type: 'progress', v: PROTOCOL_VERSION, assignment, fraction });
      } catch {
        // The link is down: the update, sent the same way, meets the same fate and is what counts.
      }
    });
  }

  private async evaluate(msg: EvalRequestMessage): Promise<void> {
    const result = await this.trainer.evaluate(msg.model, msg.models);
    this.transport.send(this.aggregatorId, { type: 'eval-result', v: PROTOCOL_VERSION, round: msg.round, requestId: msg.requestId, losses: result.losses, numSamples: result.numSamples });
  }
}
