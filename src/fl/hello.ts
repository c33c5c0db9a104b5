import { PROTOCOL_VERSION, type HelloMessage } from './protocol';

/** A client as the aggregator admitted it from its hello. */
export interface ClientInfo {
  id: string;
  name: string;
  backend: string;
  numSamples: number;
  labelHistogram: number[];
  joinedAt: number;
}

/** Admission check for a hello (e.g. the join secret): a reason to refuse, or null. */
export type AdmitHello = (hello: HelloMessage, from: string) => string | null;

export type HelloVerdict = { ok: true; client: ClientInfo } | { ok: false; reason: string; reply: string | null };

/**
 * What an aggregator (synchronous or asynchronous) makes of a hello: the client it admits, or the reason it refuses
 * (and what to tell the client, if anything). A client saying hello again keeps the time it first joined.
 */
export function checkHello(from: string, hello: HelloMessage, admit: AdmitHello | undefined, earlier: ClientInfo | undefined): HelloVerdict {
  if (hello.v !== PROTOCOL_VERSION) return { ok: false, reason: `hello with protocol version ${hello.v}`, reply: `protocol version ${hello.v} is not supported` };
  const refusal = admit?.(hello, from) ?? null;
  if (refusal) return { ok: false, reason: refusal, reply: refusal };
  if (!(Number.isInteger(hello.numSamples) && hello.numSamples >= 0)) return { ok: false, reason: `hello with an invalid sample count (${hello.numSamples})`, reply: null };
  return {
    ok: true,
    client: { id: from, name: hello.clientName, backend: hello.backend, numSamples: hello.numSamples, labelHistogram: hello.labelHistogram, joinedAt: earlier?.joinedAt ?? Date.now() },
  };
}
