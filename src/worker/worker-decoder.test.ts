import { afterEach, describe, expect, it, vi } from 'vitest';
import { WIRE_LIMITS } from '../fl/codec/limits';
import { encodeMessage, tryDecodeMessage, type DecodeResult } from '../fl/codec/message-codec';
import { sampleMessages } from '../fl/codec/test-messages';
import { wasValidated } from '../fl/codec/validate';
import type { Message, UpdateMessage } from '../fl/protocol';
import { decodeWorkerApi, type DecodeWorkerApi } from './decode-api';
import { typedArrayBuffers } from './transferables';
import { WorkerDecodeOffload } from './worker-decoder';
import { closeInProcessWorkers, inProcessWorker } from './testing/in-process-worker';

const update = sampleMessages()[3] as UpdateMessage;
/** On a buffer of its own, as the frame assembler hands messages on. */
const encodedUpdate = () => encodeMessage(update, 'float32').slice();

/** The decode worker, in-process. */
const decodeWorker = (api: DecodeWorkerApi = decodeWorkerApi) => inProcessWorker(api);

/** A worker that never answers and fails when told to (an 'error' event, as a failed module load fires). */
class SilentWorker extends EventTarget {
  readonly posted: unknown[] = [];
  terminated = false;
  postMessage(message: unknown): void {
    this.posted.push(message);
  }
  terminate(): void {
    this.terminated = true;
  }
  crash(): void {
    this.dispatchEvent(new Event('error', { cancelable: true }));
  }
}


describe('WorkerDecodeOffload', () => {
  afterEach(() => {
    closeInProcessWorkers();
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it('decodes in the worker: the same message, marked validated, the input taken over and the tensors transferred back', async () => {
    const inWorker: DecodeResult[] = [];
    const keepingResults: DecodeWorkerApi = {
      ...decodeWorkerApi,
      decode(b, limits) {
        const result = decodeWorkerApi.decode(b, limits);
        inWorker.push(result);
        return result;
      },
    };
    const offload = new WorkerDecodeOffload(inProcessWorker(keepingResults));
    const bytes = encodedUpdate();
    const expected = tryDecodeMessage(bytes.slice(), WIRE_LIMITS);
    const result = await offload.decode(bytes, WIRE_LIMITS);
    expect(result).toEqual(expected);
    if (!result.ok) throw new Error(result.reason);
    expect(wasValidated(result.message)).toBe(true);
    // Transferred both ways, not copied: the sender's buffers are detached.
    expect(bytes.byteLength).toBe(0);
    const sent = inWorker[0] as Extract<DecodeResult, { ok: true }>;
    expect((sent.message as UpdateMessage).delta.map((t) => t.values.byteLength)).toEqual([0, 0, 0, 0]);
  });

  it('copies a view on a larger buffer before transferring, leaving the buffer to its owner', async () => {
    const offload = new WorkerDecodeOffload(decodeWorker());
    const message = encodedUpdate();
    const shared = new Uint8Array(message.length + 16);
    shared.set(message, 8);
    const result = await offload.decode(shared.subarray(8, 8 + message.length), WIRE_LIMITS);
    expect(result.ok).toBe(true);
    expect(shared.byteLength).toBe(message.length + 16);
    expect(Buffer.from(shared.subarray(8, 8 + message.length)).equals(message)).toBe(true);
  });

  it('returns a rejected message with the reason decoding here gives', async () => {
    const offload = new WorkerDecodeOffload(decodeWorker());
    const junk = Uint8Array.of(0x81, 0xa4, 0x74, 0x79, 0x70, 0x65, 0xa3, 0x62, 0x61, 0x64); // {type: 'bad'}
    expect(await offload.decode(junk.slice(), WIRE_LIMITS)).toEqual(tryDecodeMessage(junk, WIRE_LIMITS));
  });

  it('decodes on this thread when the worker does not start in time, and stops it', async () => {
    vi.useFakeTimers();
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    const worker = new SilentWorker();
    const offload = new WorkerDecodeOffload(worker, { startTimeoutMs: 1000 });
    const decoding = offload.decode(encodedUpdate(), WIRE_LIMITS);
    await vi.advanceTimersByTimeAsync(1000);
    const result = await decoding;
    expect(result.ok && wasValidated(result.message)).toBe(true);
    expect(worker.terminated).toBe(true);
  });

  it('decodes on this thread when the worker fails to load', async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    const worker = new SilentWorker();
    const offload = new WorkerDecodeOffload(worker);
    worker.crash();
    expect((await offload.decode(encodedUpdate(), WIRE_LIMITS)).ok).toBe(true);
  });

  it('fails the decodes waiting on a worker that dies, then decodes on this thread', async () => {
    // Answers the start-up ping, then never again.
    let answered = false;
    const port = inProcessWorker({ ping: () => ((answered = true), true), decode: () => new Promise(() => {}) });
    const worker = Object.assign(port, { crash: () => port.dispatchEvent(new Event('error', { cancelable: true })) });
    const offload = new WorkerDecodeOffload(worker);
    const first = offload.decode(encodedUpdate(), WIRE_LIMITS);
    // A generous bound that only stops a hang: the ping is answered on the event loop, however loaded the machine.
    await vi.waitFor(() => expect(answered).toBe(true), { timeout: 30_000 });
    worker.crash();
    await expect(first).rejects.toThrow(/the decode worker failed/);
    expect((await offload.decode(encodedUpdate(), WIRE_LIMITS)).ok).toBe(true);
  });
});

describe('typedArrayBuffers', () => {
  it('lists the buffer of every tensor, each once, wherever it sits in the message', () => {
    const [a, b] = [new Float32Array(4), new Float32Array(2)];
    const message = {
      ...update,
      delta: [
        { name: 'a', shape: [4], values: a },
        { name: 'b', shape: [2], values: b },
      ],
      extras: { momentum: [{ name: 'a', shape: [4], values: new Float32Array(a.buffer) }] },
    } as Message;
    expect(typedArrayBuffers(message)).toEqual([a.buffer, b.buffer]);
    expect(typedArrayBuffers(sampleMessages()[0])).toEqual([]);
  });
});
