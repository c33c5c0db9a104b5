/**
 * The decode worker's RPC surface (Comlink): decodes one assembled message off the main thread and hands it back with
 * its tensors' buffers transferred, not copied.
 */
import * as Comlink from 'comlink';
import type { WireLimits } from '../fl/codec/limits';
import { tryDecodeMessage, type DecodeResult } from '../fl/codec/message-codec';
import { typedArrayBuffers } from './transferables';

export interface DecodeWorkerApi {
  /** tryDecodeMessage(bytes, limits). */
  decode(bytes: Uint8Array, limits: WireLimits): DecodeResult;
  /** Answers once the worker runs (its module loaded). */
  ping(): true;
}

export const decodeWorkerApi: DecodeWorkerApi = {
  decode(bytes, limits) {
    const result = tryDecodeMessage(bytes, limits);
    return result.ok ? Comlink.transfer(result, typedArrayBuffers(result.message)) : result;
  },
  ping: () => true,
};
