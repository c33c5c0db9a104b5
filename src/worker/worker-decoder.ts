/**
 * Main-thread side of the decode worker: a DecodeOffload that decodes peers' large messages in a module Web Worker,
 * so that six model updates arriving at once do not block the aggregating tab's main thread. Where the worker
 * cannot start (no Worker support, a failed module load, no answer) it decodes on this thread instead.
 */
import * as Comlink from 'comlink';
import type { WireLimits } from '../fl/codec/limits';
import { tryDecodeMessage, type DecodeResult } from '../fl/codec/message-codec';
import { markValidated } from '../fl/codec/validate';
import type { DecodeOffload } from '../fl/codec/wire-codec';
import type { DecodeWorkerApi } from './decode-api';
import { WorkerLink, type WorkerEndpoint } from './worker-link';

/** Messages at least this large go to the worker; for smaller ones posting costs about as much as decoding. */
export const DECODE_WORKER_MIN_BYTES = 32 * 1024;
/** A worker that has not answered by then is given up (its module did not load). */
export const DECODE_WORKER_START_TIMEOUT_MS = 10_000;

export interface WorkerDecodeOffloadOptions {
  minBytes?: number;
  startTimeoutMs?: number;
}

/** `bytes` on a buffer of their own, which can be transferred without taking anything else along. */
function ownBuffer(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const whole = bytes.buffer instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
  return whole ? (bytes as Uint8Array<ArrayBuffer>) : bytes.slice();
}

export class WorkerDecodeOffload implements DecodeOffload {
  readonly minBytes: number;
  private readonly link: WorkerLink<DecodeWorkerApi>;

  /** `worker`: a module Worker running decode.worker.ts (in tests, any Comlink endpoint exposing decodeWorkerApi). */
  constructor(worker: WorkerEndpoint, options: WorkerDecodeOffloadOptions = {}) {
    this.minBytes = options.minBytes ?? DECODE_WORKER_MIN_BYTES;
    this.link = new WorkerLink(worker, {
      name: 'the decode worker',
      fallback: "Decoding peers' messages on the main thread",
      startTimeoutMs: options.startTimeoutMs ?? DECODE_WORKER_START_TIMEOUT_MS,
    });
  }

  /** Takes `bytes` over (its buffer is transferred to the worker). */
  async decode(bytes: Uint8Array, limits: WireLimits): Promise<DecodeResult> {
    if (!(await this.link.usable())) return tryDecodeMessage(bytes, limits);
    const own = ownBuffer(bytes);
    const result = await this.link.call<DecodeResult>(this.link.remote.decode(Comlink.transfer(own, [own.buffer]), limits));
    // The worker ran validateMessage, but its mark does not survive the structured clone.
    if (result.ok) markValidated(result.message);
    return result;
  }
}

let shared: { offload: DecodeOffload | undefined } | undefined;

/**
 * The page's decode worker, started on first use and shared by every transport of the page (it keeps no state).
 * Undefined where workers cannot be made: then messages are decoded where they arrive.
 */
export function sharedDecodeOffload(): DecodeOffload | undefined {
  shared ??= { offload: startDecodeWorker() };
  return shared.offload;
}

function startDecodeWorker(): DecodeOffload | undefined {
  if (typeof Worker === 'undefined') return undefined;
  try {
    return new WorkerDecodeOffload(new Worker(new URL('./decode.worker.ts', import.meta.url), { type: 'module', name: 'fedtab-decode' }));
  } catch (error) {
    console.warn('Decoding peers\' messages on the main thread: the decode worker could not be created', error);
    return undefined;
  }
}
