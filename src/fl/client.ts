import type { LocalTrainer } from './local-trainer';
import type { EvalRequestMessage, Message, RoundResultMessage, RoundStartMessage } from './protocol';
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
      labelHistogram: info.labelHistogram,
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
        this.enqueue(() => this.train(message));
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
    this.busy = this.busy.then(job).catch((e: unknown) => {
      const reason = e instanceof Error ? e.message : String(e);
      this.options.onError?.(reason);
      this.transport.send(this.aggregatorId, { type: 'error', v: PROTOCOL_VERSION, reason });
    });
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
    const request = { round, model: msg.model, strategy: msg.strategy, train: msg.train, weights: msg.weights, ...(msg.extras ? { extras: msg.extras } : {}) };
    let result;
    try {
      result = await this.trainer.train(request, hooks);
    } finally {
      reporter.stop();
    }
    if (result.cancelled) return;
    this.transport.send(this.aggregatorId, {
      type: 'update',
      v: PROTOCOL_VERSION,
      assignment: msg.assignment,
      delta: result.delta,
      numSamples: result.numSamples,
      metrics: result.metrics,
      ...(result.extras ? { extras: result.extras } : {}),
    });
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
