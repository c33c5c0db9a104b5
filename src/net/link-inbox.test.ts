import { afterEach, describe, expect, it, vi } from 'vitest';
import { tryDecodeMessage } from '../fl/codec/message-codec';
import { createWireCodec, type DecodeOffload } from '../fl/codec/wire-codec';
import { PROTOCOL_VERSION, type Message } from '../fl/protocol';
import type { Decoded } from '../fl/transport';
import { LinkInbox } from './link-inbox';
import { createJsonWireCodec } from './testing/json-wire-codec';

const bye = (reason: string): Message => ({ type: 'bye', v: PROTOCOL_VERSION, reason });
/** Offloads everything; decodes in-process, a microtask later. */
const eagerOffload: DecodeOffload = { minBytes: 1, decode: async (bytes, limits) => tryDecodeMessage(bytes, limits) };

describe('LinkInbox', () => {
  afterEach(() => vi.restoreAllMocks());

  it('decodes at once when the decoder cannot split assembly from decoding, offload or not', () => {
    const codec = createJsonWireCodec(1024);
    const delivered: Decoded[] = [];
    const inbox = new LinkInbox(codec.createDecoder(), (d) => delivered.push(d), eagerOffload);
    expect(inbox.push(codec.encode(bye('now'))[0])).toEqual({ completed: true, backlogFull: false });
    expect(delivered).toEqual([{ messages: [bye('now')], errors: [] }]);
  });

  it('reports a frame error at once, and an incomplete message as not completed', () => {
    const codec = createWireCodec('float32', { maxFrameBytes: 64 });
    const delivered: Decoded[] = [];
    const inbox = new LinkInbox(codec.createDecoder(), (d) => delivered.push(d), eagerOffload);
    expect(inbox.push(codec.encode(bye('a reason long enough for two frames'))[0])).toEqual({ completed: false, backlogFull: false });
    expect(inbox.push(new Uint8Array(8))).toEqual({ completed: true, backlogFull: false });
    expect(delivered).toEqual([{ messages: [], errors: [expect.stringMatching(/^frame rejected: truncated frame/)] }]);
  });

  it('goes on delivering after a delivery threw', async () => {
    const codec = createWireCodec('float32');
    const delivered: Message[] = [];
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    const inbox = new LinkInbox(
      codec.createDecoder(),
      ({ messages }) => {
        if (messages[0]?.type === 'bye' && messages[0].reason === 'throws') throw new Error('handler bug');
        delivered.push(...messages);
      },
      eagerOffload,
    );
    inbox.push(codec.encode(bye('throws'))[0]);
    inbox.push(codec.encode(bye('next'))[0]);
    expect(inbox.pendingMessages).toBe(2);
    await inbox.settled();
    expect(delivered).toEqual([bye('next')]);
    expect(inbox.pendingMessages).toBe(0);
    expect(logged).toHaveBeenCalledTimes(1);
  });
});
