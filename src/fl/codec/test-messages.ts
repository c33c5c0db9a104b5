/** Deterministic sample messages for the codec tests (not used at runtime; no tfjs import, to keep tests fast). */
import { PROTOCOL_VERSION, type Message } from '../protocol';
import { Rng } from '../rng';
import type { WeightSet } from '../weights';

/** A WeightSet with the given shapes, normal(0, std) values. */
export function randomWeights(shapes: Record<string, number[]>, seed = 1, std = 0.1): WeightSet {
  const rng = new Rng(seed);
  return Object.entries(shapes).map(([name, shape]) => {
    const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < values.length; i++) values[i] = rng.normal() * std;
    return { name, shape, values };
  });
}

/** 784*64 + 64 + 64*10 + 10 = 50,890 parameters (the 50k-parameter mlp). */
export const MLP_50K_SHAPES = { 'fc1/kernel': [784, 64], 'fc1/bias': [64], 'logits/kernel': [64, 10], 'logits/bias': [10] };

/** 600 KB of float32 values: several 256 KB frames. */
export const LARGE_SHAPES = { 'big/kernel': [600, 256], 'big/bias': [256] };

/** One message of every type; the WeightSet-carrying ones with the 50k-parameter layout. */
export function sampleMessages(seed = 1): Message[] {
  const v = PROTOCOL_VERSION;
  const weights = randomWeights(MLP_50K_SHAPES, seed);
  return [
    { type: 'hello', v, clientName: 'tab-1 ✓', backend: 'webgl', numSamples: 600, labelHistogram: [60, 0, 540] },
    { type: 'hello', v, clientName: 'tab-2', backend: 'wasm', numSamples: 0, labelHistogram: [] },
    {
      type: 'round-start',
      v,
      version: 2,
      assignment: 3,
      model: { kind: 'mlp', inputShape: [28, 28, 1], hidden: [64], numClasses: 10 },
      strategy: { name: 'fedld', lambda: 0.1, rho: 0.8 },
      train: { localEpochs: 1, batchSize: 32, learningRate: 0.05, seed: -7 },
      weights,
    },
    {
      type: 'update',
      v,
      assignment: 3,
      delta: randomWeights(MLP_50K_SHAPES, seed + 1, 0.01),
      numSamples: 600,
      metrics: { trainLoss: 0.71, evalLoss: 0.8, evalAccuracy: 0.75, trainMs: 1234.5, samplesPerSecond: 486.2 },
    },
    {
      type: 'eval-request',
      v,
      round: 4,
      requestId: 'r4-a',
      model: { kind: 'cnn', inputShape: [28, 28, 1], filters: [8, 16], dense: 32, numClasses: 10 },
      models: [randomWeights({ a: [3, 3, 1, 8], b: [8] }, seed + 2), randomWeights({ a: [3, 3, 1, 8], b: [8] }, seed + 3), []],
    },
    { type: 'eval-result', v, round: 4, requestId: 'r4-a', losses: [2.3, 0.41, 1e-9], numSamples: 120 },
    {
      type: 'round-start',
      v,
      version: 0,
      assignment: 1,
      model: { kind: 'mlp', inputShape: [4], hidden: [], numClasses: 2 },
      strategy: { name: 'fedavg' },
      train: { localEpochs: 1, batchSize: 32, learningRate: 0.05, seed: 1 },
      weights: randomWeights({ k: [4, 2] }, seed),
      privacy: { clipNorm: 1, noiseStd: 0.4, maxWeight: 1, uniform: true, secure: true },
    },
    { type: 'secagg', v, assignment: 1, step: 'keys', channelKey: new Uint8Array(65).fill(4), maskKey: new Uint8Array(65).fill(7) },
    { type: 'secagg', v, assignment: 1, step: 'shares', shares: [{ to: 'tab-2', box: new Uint8Array(160).fill(9) }] },
    { type: 'secagg', v, assignment: 1, step: 'masked', masked: new Uint8Array(36).fill(200), metrics: { trainLoss: 0.7, evalLoss: 0.8, evalAccuracy: 0.75, trainMs: 12, samplesPerSecond: 400 } },
    { type: 'secagg', v, assignment: 1, step: 'reveal', selfMaskShares: [{ of: 'tab-2', y: new Uint8Array(66).fill(1) }], maskKeyShares: [] },
    {
      type: 'secagg-round',
      v,
      assignment: 1,
      step: 'setup',
      you: 'tab-1',
      clients: ['tab-1', 'tab-2'],
      graphSeed: 77,
      degree: 1,
      threshold: 1,
      neighbourKeys: [{ clientId: 'tab-2', channelKey: new Uint8Array(65).fill(4), maskKey: new Uint8Array(65).fill(7) }],
    },
    { type: 'secagg-round', v, assignment: 1, step: 'inbox', shares: [{ from: 'tab-2', box: new Uint8Array(160).fill(9) }] },
    { type: 'secagg-round', v, assignment: 1, step: 'unmask', survivors: ['tab-1', 'tab-2'], dropped: [] },
    { type: 'round-result', v, term: 2, round: 4, participants: 5, accuracy: 0.9125, loss: 0.3, decomposition: { local: 0.2, shift: 0.5, aggregation: -0.4, global: 0.3 } },
    { type: 'round-result', v, round: 0, participants: 0, accuracy: null, loss: null },
    {
      type: 'welcome',
      v,
      term: 1,
      slot: 2,
      round: 5,
      config: {
        model: { kind: 'mlp', inputShape: [28, 28, 1], hidden: [64], numClasses: 10 },
        strategy: { name: 'fedprox', mu: 0.01 },
        train: { localEpochs: 1, batchSize: 32, learningRate: 0.05 },
        rounds: 10,
        minClients: 2,
        fraction: 0.5,
        roundDeadlineMs: 60000,
        decomposition: 'exact',
        decompositionEvery: 1,
        codec: 'int8',
        seed: 3,
        demo: { partition: { kind: 'dirichlet', alpha: 0.5 }, clients: 8 },
      },
      history: [
        { round: 1, accuracy: 0.5, loss: 1.2, decomposition: null, participantCount: 3 },
        { round: 2, accuracy: null, loss: null, decomposition: { local: 0.1, shift: 0.2, aggregation: 0.3, global: 0.6 }, participantCount: 2 },
      ],
    },
    { type: 'roster', v, term: 3, aggregatorId: 'p-host', round: 5, peers: [{ id: 'p-host', name: 'host', slot: 0, backend: 'webgl', numSamples: 500, labelHistogram: [250, 250] }, { id: 'p-2', name: 'tab 2', slot: 1, backend: 'cpu', numSamples: 0, labelHistogram: [] }] },
    { type: 'checkpoint', v, term: 1, round: 5, weights: randomWeights(MLP_50K_SHAPES, seed + 4), serverState: null },
    {
      type: 'checkpoint',
      v,
      term: 2,
      round: 6,
      weights: randomWeights({ a: [3, 2] }, seed + 5),
      serverState: { strategy: 'fedld', steps: 6, tensors: { history: randomWeights({ a: [3, 2] }, seed + 6) }, values: { lambda: 0.1 } },
    },
    { type: 'vote-request', v, term: 4, previous: 'p-host' },
    { type: 'vote', v, term: 4, granted: false },
    { type: 'bye', v, reason: 'tab closed' },
    { type: 'bye', v, reason: 'following term 3', term: 3 },
    { type: 'error', v, reason: 'model mismatch' },
    { type: 'auth-hello', v, nonce: '0123456789abcdef0123456789abcdef' },
    { type: 'auth-challenge', v, nonce: 'fedcba9876543210fedcba9876543210', proof: 'ab'.repeat(32) },
    { type: 'auth-proof', v, proof: '09'.repeat(32) },
    { type: 'hello', v, clientName: 'tab-3', backend: 'cpu', numSamples: 10, labelHistogram: [10], clientKey: 'k'.repeat(32) },
    { type: 'redirect', v, term: 2, aggregatorId: 'p-ann' },
    { type: 'progress', v, assignment: 3, fraction: 0.4 },
    { type: 'reclaim', v, term: 3, proof: 'c0'.repeat(32) },
    { type: 'handback', v, term: 4, run: true },
    { type: 'session-state', v, term: 2, seq: 7, phase: 'waiting', round: 3, runningRound: 4, totalRounds: 10, reason: '1 of 2 clients have data', aggregatorId: 'p-ann', withData: 1, needed: 2, inRound: ['p-ann', 'p-2'] },
  ];
}

/** Elements of one msgpack array16 header (the scan's array bound is larger; a bomb stays under both). */
const BOMB_ROW = 10_000;

/**
 * Valid msgpack holding `maps` empty maps (one byte each) in an array of arrays of up to BOMB_ROW: every length is
 * true and the nesting is 2 deep, so only an object count refuses it; an unbounded decoder builds one JS object per
 * byte from it (8 MB: 8.4 million objects).
 */
export function emptyMapBomb(maps: number): Uint8Array {
  const rows = Math.max(1, Math.ceil(maps / BOMB_ROW));
  const out = new Uint8Array(3 + 3 * rows + maps);
  out.set([0xdc, rows >> 8, rows & 0xff], 0);
  let at = 3;
  for (let r = 0; r < rows; r++) {
    const n = Math.min(BOMB_ROW, maps - r * BOMB_ROW);
    out.set([0xdc, n >> 8, n & 0xff], at);
    out.fill(0x80, at + 3, at + 3 + n);
    at += 3 + n;
  }
  return out;
}
