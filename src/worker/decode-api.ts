/**
 * The decode worker's RPC surface (Comlink): decodes one assembled message off the main thread and hands it back with
 * its tensors' buffers transferred, not copied.
 */
import * as Comlink from 'comlink';
import type { WireLimits } from '../fl/codec/limits';
import { tryDecodeMessage, type DecodeResult } from '../fl/codec/message-codec';
import type { Message } from '../fl/protocol';

export interface DecodeWorkerApi {
  /** tryDecodeMessage(bytes, limits). */
  decode(bytes: Uint8Array, limits: WireLimits): DecodeResult;
  /** Answers once the worker runs (its module loaded). */
  ping(): true;
}

/** The buffers behind every typed array in `message` (its tensors' values), each once. */
export function tensorBuffers(message: Message): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  const visit = (x: unknown): void => {
    if (ArrayBuffer.isView(x)) {
      if (x.buffer instanceof ArrayBuffer) buffers.add(x.buffer);
    } else if (Array.isArray(x)) {
      for (const item of x) visit(item);
    } else if (typeof x === 'object' && x !== null) {
      for (const value of Object.values(x)) visit(value);
    }
  };
  visit(message);
  return [...buffers];
}

export const decodeWorkerApi: DecodeWorkerApi = {
  decode(bytes, limits) {
    const result = tryDecodeMessage(bytes, limits);
    return result.ok ? Comlink.transfer(result, tensorBuffers(result.message)) : result;
  },
  ping: () => true,
};
