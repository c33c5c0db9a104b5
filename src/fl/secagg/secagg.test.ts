import { byteChiSquare, CHI2_255_Q_1E6 } from '../testing/byte-stats';
import { describe, expect, it } from 'vitest';
import { Rng } from '../rng';
import { addInto, dequantise, fixedPointPlan, quantise } from './fixed-point';
import { runSecAggRound } from './in-process-round';
import { neighbourGraph } from './neighbours';
import { SecAggClient } from './secagg-client';
import { SecAggError, SecAggServer } from './secagg-server';
import { combineShares, FIELD_PRIME, randomFieldElement, splitSecret } from './shamir';

const ids = (n: number) => Array.from({ length: n }, (_, i) => `client-${String(i).padStart(2, '0')}`);

/** K float vectors of length L with values in [-1, 1], seeded. */
function floatInputs(clients: string[], length: number, seed: number): Map<string, Float64Array> {
  const rng = new Rng(seed);
  return new Map(clients.map((c) => [c, Float64Array.from({ length }, () => 2 * rng.next() - 1)]));
}

function plainSum(vectors: Iterable<Float64Array>, length: number): Float64Array {
  const sum = new Float64Array(length);
  for (const v of vectors) for (let i = 0; i < length; i++) sum[i] += v[i];
  return sum;
}



describe('Shamir sharing over GF(2^521 - 1)', () => {
  it('any threshold of the shares give the secret back, and a share off the polynomial is caught', () => {
    const secret = randomFieldElement();
    const shares = splitSecret(secret, 3, [1, 2, 3, 4, 5]);
    expect(combineShares([shares[4], shares[0], shares[2]], 3)).toBe(secret);
    expect(combineShares(shares, 3)).toBe(secret);
    expect(() => combineShares(shares.slice(0, 2), 3)).toThrow(/2 shares, 3 needed/);
    const forged = [...shares.slice(0, 3), { x: shares[3].x, y: (shares[3].y + 1n) % FIELD_PRIME }];
    expect(() => combineShares(forged, 3)).toThrow(/share 4 does not agree/);
  });

  it('threshold - 1 shares fit every secret equally (a wrong secret with the same shares is a valid polynomial)', () => {
    const shares = splitSecret(42n, 2, [1, 2]);
    // With one share, any constant term is consistent: the line through (0, s') and (1, y1) exists for every s'.
    const other = 7n;
    const slope = ((shares[0].y - other) % FIELD_PRIME + FIELD_PRIME) % FIELD_PRIME;
    expect(combineShares([{ x: 1, y: shares[0].y }, { x: 2, y: (other + 2n * slope) % FIELD_PRIME }], 2)).toBe(other);
  });
});

describe('fixed point in Z_2^32', () => {
  it('sums K quantised vectors exactly and reads back the real sum within K half-steps', () => {
    const clients = ids(50);
    const inputs = floatInputs(clients, 500, 3);
    const plan = fixedPointPlan(1, clients.length);
    const ring = new Uint32Array(500);
    for (const v of inputs.values()) addInto(ring, quantise(v, plan).ring);
    const got = dequantise(ring, plan);
    const want = plainSum(inputs.values(), 500);
    const maxErr = Math.max(...got.map((g, i) => Math.abs(g - want[i])));
    expect(maxErr).toBeLessThanOrEqual((clients.length * 0.5) / plan.scale);
    // The extreme case: every term at the bound does not wrap.
    const extreme = new Uint32Array(1);
    for (let k = 0; k < plan.maxTerms; k++) addInto(extreme, quantise(Float64Array.of(-1), plan).ring);
    expect(dequantise(extreme, plan)[0]).toBeCloseTo(-plan.maxTerms, 4);
  });

  it('clamps values outside the declared range and counts them', () => {
    const plan = fixedPointPlan(0.5, 4);
    const { ring, clamped } = quantise(Float64Array.of(0.2, 3, -9), plan);
    expect(clamped).toBe(2);
    expect(Array.from(dequantise(ring, plan)).map((x) => Math.round(x * 1e6) / 1e6)).toEqual([0.2, 0.5, -0.5]);
    expect(() => quantise(Float64Array.of(NaN), plan)).toThrow(/not finite/);
  });
});

describe('the neighbour graph', () => {
  it('is symmetric, of the given degree, the same for the same seed, and sparse for large rounds', () => {
    const clients = ids(50);
    const g = neighbourGraph(clients, 11);
    expect(g.degree).toBe(12);
    expect(g.threshold).toBe(7);
    for (const [c, list] of g.neighbours) {
      expect(list.length).toBe(12);
      for (const n of list) expect(g.neighbours.get(n)).toContain(c);
    }
    expect(neighbourGraph([...clients].reverse(), 11).neighbours).toEqual(g.neighbours);
    expect(neighbourGraph(clients, 12).neighbours).not.toEqual(g.neighbours);
    expect(neighbourGraph(ids(6), 1).degree).toBe(5); // small rounds: everyone
  });
});

describe('a secure-aggregation round', () => {
  const length = 2000;
  const clients = ids(12); // degree 8, threshold 5

  async function round(dropAfterSharing: string[] = [], silentInUnmask: string[] = []) {
    const inputs = floatInputs(clients, length, 7);
    const plan = fixedPointPlan(1, clients.length);
    const contributions = new Map([...inputs].map(([id, v]) => [id, quantise(v, plan).ring]));
    const result = await runSecAggRound(contributions, { sessionId: 'S', round: 3, graphSeed: 99, dropAfterSharing, silentInUnmask });
    const want = plainSum(clients.filter((c) => !dropAfterSharing.includes(c)).map((c) => inputs.get(c)!), length);
    const exact = new Uint32Array(length);
    for (const c of result.survivors) addInto(exact, contributions.get(c)!);
    return { result, plan, want, exact };
  }

  it('gives the exact sum of the quantised inputs, the plain sum to the quantisation error, without dropouts', async () => {
    const { result, plan, want, exact } = await round();
    expect(result.survivors).toEqual(clients);
    expect(result.sum).toEqual(exact);
    const got = dequantise(result.sum, plan);
    expect(Math.max(...got.map((g, i) => Math.abs(g - want[i])))).toBeLessThanOrEqual((clients.length * 0.5) / plan.scale);
  });

  it('recovers the survivors\' sum with the most dropouts it tolerates: a client left with exactly t live neighbours', async () => {
    const graph = neighbourGraph(clients, 99);
    const victim = clients[0];
    const gone = graph.neighbours.get(victim)!.slice(0, graph.degree - graph.threshold); // 3 of its 8 neighbours
    const { result, plan, want, exact } = await round(gone);
    expect(result.survivors).toEqual(clients.filter((c) => !gone.includes(c)));
    expect(result.sum).toEqual(exact);
    const got = dequantise(result.sum, plan);
    expect(Math.max(...got.map((g, i) => Math.abs(g - want[i])))).toBeLessThanOrEqual((clients.length * 0.5) / plan.scale);
  });

  it('fails cleanly, with no sum, when fewer than t of a client\'s neighbours are left', async () => {
    const graph = neighbourGraph(clients, 99);
    const victim = clients[0];
    const gone = graph.neighbours.get(victim)!.slice(0, graph.degree - graph.threshold + 1);
    await expect(round(gone)).rejects.toThrow(SecAggError);
    await expect(round(gone)).rejects.toThrow(/4 of 5 needed self-mask seed shares of client-00/);
    // The same when they sent their inputs but do not answer the unmask request.
    await expect(round([], gone)).rejects.toThrow(/4 of 5 needed self-mask seed shares of client-00/);
  });

  it('sends the aggregator a masked input whose bytes look uniform, while the unmasked input does not', async () => {
    const L = 20_000;
    const three = ids(3);
    const server = new SecAggServer({ sessionId: 'S', round: 1, length: L, invited: three, graphSeed: 5 });
    const parties = three.map((id) => new SecAggClient(id, 'S', 1, L));
    for (const p of parties) server.receiveAdvertisement(await p.advertise());
    const setups = server.setups();
    const boxes = (await Promise.all(parties.map(async (p) => server.receiveShares(p.id, await p.shareSecrets(setups.get(p.id)!))))).flat();
    for (const p of parties) await p.receiveShares(boxes.filter((b) => b.to === p.id));
    // A realistic update: small values around zero, quantised.
    const rng = new Rng(1);
    const plain = quantise(Float64Array.from({ length: L }, () => 0.01 * rng.normal()), fixedPointPlan(1, 3)).ring;
    const masked = await parties[0].mask(plain);
    expect(byteChiSquare(new Uint8Array(plain.buffer))).toBeGreaterThan(CHI2_255_Q_1E6);
    expect(byteChiSquare(new Uint8Array(masked.masked.buffer))).toBeLessThan(CHI2_255_Q_1E6);
    // Nor do the masked words follow the input's sign: as many land in each half of the ring, whatever the input.
    const upper = masked.masked.reduce((n, w) => n + (w >= 2 ** 31 ? 1 : 0), 0);
    expect(Math.abs(upper - L / 2)).toBeLessThan(5 * Math.sqrt(L / 4));
  });
});

describe('what secure aggregation refuses', () => {
  it('keys from a client not in the round, shares to a non-neighbour, malformed inputs, a request to reveal both secrets', async () => {
    const clients = ids(8);
    const server = new SecAggServer({ sessionId: 'S', round: 1, length: 4, invited: clients, graphSeed: 2, degree: 6, threshold: 4 });
    const parties = new Map(clients.map((id) => [id, new SecAggClient(id, 'S', 1, 4)]));
    const outsider = new SecAggClient('mallory', 'S', 1, 4);
    expect(() => server.receiveAdvertisement({ clientId: 'mallory', channelKey: new Uint8Array(65), maskKey: new Uint8Array(65) })).toThrow(/mallory, who is not in the round/);
    await outsider.advertise();
    for (const p of parties.values()) server.receiveAdvertisement(await p.advertise());
    expect(() => server.receiveAdvertisement({ clientId: clients[0], channelKey: new Uint8Array(65), maskKey: new Uint8Array(65) })).toThrow(/advertised keys twice/);
    const setups = server.setups();
    expect(() => server.receiveAdvertisement({ clientId: 'client-99', channelKey: new Uint8Array(65), maskKey: new Uint8Array(65) })).toThrow(/after the round was set up/);
    const graph = server.neighbourGraph!;
    // Each client gets its neighbours' keys and nobody else's.
    for (const [id, setup] of setups) expect(setup.neighbourKeys.map((k) => k.clientId).sort()).toEqual(graph.neighbours.get(id));
    const a = clients[0];
    // A client takes no graph sparser than the default (6 for 8 clients), nor a threshold a minority of neighbours reaches.
    const loose = new SecAggClient(a, 'S', 1, 4);
    await loose.advertise();
    await expect(loose.shareSecrets({ ...setups.get(a)!, degree: 4 })).rejects.toThrow(/degree 4 is below 6 for 8 clients/);
    const lax = new SecAggClient(a, 'S', 1, 4);
    await lax.advertise();
    await expect(lax.shareSecrets({ ...setups.get(a)!, threshold: 3 })).rejects.toThrow(/threshold 3 is not a majority of 6/);
    const boxes = await parties.get(a)!.shareSecrets(setups.get(a)!);
    expect(boxes.map((b) => b.to).sort()).toEqual(graph.neighbours.get(a));
    const stranger = clients.find((c) => c !== a && !graph.neighbours.get(a)!.includes(c))!;
    expect(() => server.receiveShares(a, [...boxes.slice(1), { ...boxes[0], to: stranger }])).toThrow(/exactly one share to each of its 6 neighbours/);
    expect(() => server.receiveShares(a, [{ ...boxes[0], box: new Uint8Array(10) }, ...boxes.slice(1)])).toThrow(/is not 160 bytes/);
    server.receiveShares(a, boxes);
    expect(() => server.receiveShares(a, boxes)).toThrow(/twice/);
    // A client opens shares only from its neighbours, sealed for it.
    const b = graph.neighbours.get(a)![0];
    const pb = parties.get(b)!;
    await pb.shareSecrets(setups.get(b)!);
    const strangerOfB = clients.find((c) => c !== b && !graph.neighbours.get(b)!.includes(c))!;
    await expect(pb.receiveShares([{ ...boxes[0], from: strangerOfB, to: b }])).rejects.toThrow(/from client-\d+, who is not a neighbour/);
    await expect(pb.receiveShares([{ ...boxes[0], to: stranger }])).rejects.toThrow(/routed to/);
    const forB = boxes.find((x) => x.to === b)!;
    await expect(pb.receiveShares([{ ...forB, box: new Uint8Array(1 << 20) }])).rejects.toThrow(/is not 160 bytes/);
    const altered = Uint8Array.from(forB.box);
    altered[40] ^= 1;
    await expect(pb.receiveShares([{ ...forB, box: altered }])).rejects.toThrow(/does not open/);
    await pb.receiveShares([forB]);
    expect(() => server.receiveMasked({ clientId: a, masked: new Uint32Array(5) })).toThrow(/not 4 uint32 values/);
    expect(() => server.receiveMasked({ clientId: b, masked: new Uint32Array(4) })).toThrow(/whose shares never arrived/);
    await pb.mask(new Uint32Array(4));
    expect(() => pb.unmask({ survivors: [b, a], dropped: [a] })).toThrow(/both a survivor and dropped/);
    expect(() => pb.unmask({ survivors: clients.filter((c) => c !== b), dropped: [] })).toThrow(/does not list/);
  });
});
