/**
 * One secure-aggregation round with every party in this process, message by message exactly as the parties would
 * exchange them (the simulator and the benchmarks run it). Clients may drop after sharing their secrets (their
 * masked input never arrives) or answer no unmask request; the sum then covers the survivors, or the round fails
 * with a SecAggError when too few of a client's neighbours answered. It measures what each side sends and spends.
 */
import { PUBLIC_KEY_BYTES } from './crypto';
import type { SealedShare, UnmaskResponse } from './messages';
import { SecAggClient } from './secagg-client';
import { SecAggServer } from './secagg-server';
import { SHARE_BYTES } from './shamir';

export interface InProcessRoundOptions {
  sessionId: string;
  round: number;
  graphSeed: number;
  degree?: number;
  threshold?: number;
  /** Clients that go silent after round 1: their shares went out, their masked input never arrives. */
  dropAfterSharing?: readonly string[];
  /** Survivors that never answer the unmask request. */
  silentInUnmask?: readonly string[];
}

export interface InProcessRoundResult {
  /** The exact sum (mod 2^32) of the survivors' contributions. */
  sum: Uint32Array;
  survivors: string[];
  /** Largest number of bytes one client sent plus received (keys, shares, masked input, revealed shares). */
  maxClientBytes: number;
  /** Mean over clients of the time its own steps took (key generation, sharing, masking, revealing). */
  meanClientMs: number;
  /** Time the aggregator's steps took (checks, routing, summing, rebuilding secrets, removing masks). */
  serverMs: number;
  degree: number;
  threshold: number;
}

export async function runSecAggRound(contributions: ReadonlyMap<string, Uint32Array>, options: InProcessRoundOptions): Promise<InProcessRoundResult> {
  const ids = [...contributions.keys()].sort();
  const length = contributions.get(ids[0])?.length ?? 0;
  const bytes = new Map<string, number>(ids.map((id) => [id, 0]));
  const clientMs = new Map<string, number>(ids.map((id) => [id, 0]));
  const count = (id: string, n: number) => bytes.set(id, bytes.get(id)! + n);
  let serverMs = 0;
  const timed = async <T>(id: string | null, step: () => Promise<T> | T): Promise<T> => {
    const t0 = performance.now();
    const out = await step();
    const dt = performance.now() - t0;
    if (id === null) serverMs += dt;
    else clientMs.set(id, clientMs.get(id)! + dt);
    return out;
  };

  const server = new SecAggServer({ sessionId: options.sessionId, round: options.round, length, invited: ids, graphSeed: options.graphSeed, degree: options.degree, threshold: options.threshold });
  const clients = new Map(ids.map((id) => [id, new SecAggClient(id, options.sessionId, options.round, length)]));
  for (const id of ids) {
    const ad = await timed(id, () => clients.get(id)!.advertise());
    count(id, 2 * PUBLIC_KEY_BYTES);
    await timed(null, () => server.receiveAdvertisement(ad));
  }
  const setups = await timed(null, () => server.setups());
  const inbox = new Map<string, SealedShare[]>(ids.map((id) => [id, []]));
  for (const id of ids) {
    const setup = setups.get(id)!;
    count(id, setup.neighbourKeys.length * 2 * PUBLIC_KEY_BYTES);
    const boxes = await timed(id, () => clients.get(id)!.shareSecrets(setup));
    const routed = await timed(null, () => server.receiveShares(id, boxes));
    for (const b of routed) {
      inbox.get(b.to)!.push(b);
      count(id, b.box.length);
      count(b.to, b.box.length);
    }
  }
  const dropped = new Set(options.dropAfterSharing ?? []);
  for (const id of ids) await timed(id, () => clients.get(id)!.receiveShares(inbox.get(id)!));
  for (const id of ids) {
    if (dropped.has(id)) continue;
    const input = await timed(id, () => clients.get(id)!.mask(contributions.get(id)!));
    count(id, input.masked.byteLength);
    await timed(null, () => server.receiveMasked(input));
  }
  const request = await timed(null, () => server.unmaskRequest());
  const silent = new Set(options.silentInUnmask ?? []);
  const responses: UnmaskResponse[] = [];
  for (const id of request.survivors) {
    if (silent.has(id)) continue;
    const response = await timed(id, () => clients.get(id)!.unmask(request));
    count(id, (response.selfMaskShares.length + response.maskKeyShares.length) * SHARE_BYTES);
    responses.push(response);
  }
  const sum = await timed(null, () => server.finish(responses));
  const graph = server.neighbourGraph!;
  return {
    sum,
    survivors: request.survivors,
    maxClientBytes: Math.max(...bytes.values()),
    meanClientMs: [...clientMs.values()].reduce((a, b) => a + b, 0) / ids.length,
    serverMs,
    degree: graph.degree,
    threshold: graph.threshold,
  };
}
