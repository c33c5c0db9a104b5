import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { mlpSpec } from '../fl/model-spec';
import { parseRunResult } from '../fl/result-schema';
import { metricsCsv, partitionCsv, runResultJson } from './run-export';
import type { PeerView, RoundView, SessionSettings } from './types';

const round = (n: number, patch: Partial<RoundView> = {}): RoundView => ({
  round: n,
  accuracy: 0.5 + n / 100,
  loss: 1.2,
  decomposition: { local: 0.4, shift: 0.3, aggregation: -0.1, global: 0.6 },
  decompositionMode: 'exact',
  participants: ['a', 'b'],
  participantCount: 2,
  missing: [],
  trainMs: 1000,
  aggregateMs: 20,
  evalMs: 300,
  slowestClientMs: 900,
  bytesSent: 1000,
  bytesReceived: 2000,
  ...patch,
});
const peer = (id: string, hist: number[]): PeerView => ({ id, name: `Peer, "${id}"`, backend: 'webgl', numSamples: hist.reduce((a, b) => a + b, 0), labelHistogram: hist, joinedAt: 0, isAggregator: false, isSelf: false, status: 'idle' });
const settings: SessionSettings = {
  model: 'mlp',
  strategy: { name: 'fedld', lambda: 0.1, rho: 0.8 },
  rounds: 10,
  localEpochs: 1,
  batchSize: 32,
  learningRate: 0.05,
  minClients: 1,
  fraction: 1,
  roundDeadlineMs: 60_000,
  decomposition: 'exact',
  decompositionEvery: 1,
  codec: 'float16',
  demoPartition: { kind: 'dirichlet', alpha: 0.5 },
  demoClients: 4,
  seed: 1,
  hostTrains: true,
};

describe('run exports', () => {
  it("the browser's metrics JSON follows the same schema, with unmeasured values as null", () => {
    const screening = [{ clientId: 'b', action: 'left-out' as const, reason: 'points away from the others (cosine -0.40)' }];
    const rounds = [round(1, { screening }), round(2, { decomposition: null, accuracy: null, loss: null, trainMs: 0, aggregateMs: 0, evalMs: 0 })];
    const json = runResultJson({ code: 'ABC123', role: 'host', settings, rounds, peers: [peer('a', [3, 1]), peer('b', [0, 5, 2]), peer('empty', [])], backend: null, modelSpec: mlpSpec([28, 28, 1], 10) });
    expect(json.source).toBe('browser');
    expect(json.partition.histograms).toEqual([
      [3, 1, 0],
      [0, 5, 2],
    ]);
    expect(json.rounds[1]).toMatchObject({ decomposition: null, accuracy: null, decompositionMode: null, bytes: 3000 });
    expect(json.final).toEqual({ accuracy: null, bestAccuracy: 0.51 });
    // What the aggregating tab's defence did goes into the file with the round.
    expect(json.rounds[0].screening).toEqual(screening);
    expect(json.rounds[1].screening).toBeUndefined();
    // Round-trips through JSON and validates again.
    expect(parseRunResult(JSON.parse(JSON.stringify(json)))).toEqual(json);
  });

  it('the schema refuses a malformed file and says where', () => {
    const sim = JSON.parse(readFileSync('e2e/pages/fixtures/sim-run.json', 'utf8'));
    sim.rounds[0].accuracy = 1.7;
    sim.rounds.forEach((r: { bytes?: number }) => (r.bytes = 0));
    expect(() => parseRunResult(sim)).toThrow(/rounds\.0\.accuracy/);
  });

  it('metrics CSV: one row per round, empty cells for what was not measured, quoted where needed', () => {
    const text = metricsCsv([round(2, { decomposition: null, accuracy: null, missing: ['x', 'y'] }), round(1)]);
    const lines = text.trim().split('\n');
    expect(lines[0]).toBe('round,accuracy,test_loss,global_loss,local_loss,shift_loss,aggregation_loss,decomposition_mode,participants,missing,train_ms,aggregate_ms,eval_ms,bytes_sent,bytes_received,epsilon,delta,noise_multiplier,sampling_rate,survivors');
    expect(lines[1]).toBe('1,0.51,1.2,0.6,0.4,0.3,-0.1,exact,2,,1000,20,300,1000,2000,,,,,');
    expect(lines[2]).toBe('2,,1.2,,,,,not measured,2,x y,1000,20,300,1000,2000,,,,,');
  });

  it("metrics CSV: a private round's epsilon, delta, noise multiplier, sampling rate and survivors", () => {
    const lines = metricsCsv([round(1, { decomposition: null, privacy: { secure: true, epsilon: 0.81, delta: 1e-5, budget: 4, noiseMultiplier: 1.1, samplingRate: 0.5, survivors: 3 } })]).trim().split('\n');
    expect(lines[1]).toBe('1,0.51,1.2,,,,,not measured,2,,1000,20,300,1000,2000,0.81,0.00001,1.1,0.5,3');
  });

  it("the metrics JSON of a private session: its privacy settings, each round's privacy, the epsilon spent", () => {
    const privacy = { secureAggregation: true, clipNorm: 1, noiseMultiplier: 1.1, delta: 1e-5, budget: 4 };
    const spent = (epsilon: number) => ({ secure: true, epsilon, delta: 1e-5, budget: 4, noiseMultiplier: 1.1, samplingRate: 1, survivors: 2 });
    const rounds = [round(1, { decomposition: null, privacy: spent(0.8) }), round(2, { decomposition: null, privacy: spent(1.3) })];
    const json = runResultJson({ code: 'ABC123', role: 'host', settings: { ...settings, strategy: { name: 'fedavg' }, robust: 'off', decomposition: 'off', privacy }, rounds, peers: [peer('a', [3, 1]), peer('b', [0, 5])], backend: null, modelSpec: mlpSpec([28, 28, 1], 10) });
    expect(json.config).toMatchObject({ privacy, robust: 'off' });
    expect(json.rounds.map((r) => r.privacy)).toEqual([
      { epsilon: 0.8, delta: 1e-5, noiseMultiplier: 1.1, samplingRate: 1, survivors: 2, secure: true },
      { epsilon: 1.3, delta: 1e-5, noiseMultiplier: 1.1, samplingRate: 1, survivors: 2, secure: true },
    ]);
    expect(json.privacy).toEqual({ settings: privacy, epsilon: 1.3, delta: 1e-5 });
    expect(parseRunResult(JSON.parse(JSON.stringify(json)))).toEqual(json);
    const plain = runResultJson({ code: 'ABC123', role: 'host', settings, rounds: [round(1)], peers: [peer('a', [3, 1])], backend: null, modelSpec: mlpSpec([28, 28, 1], 10) });
    expect(plain.privacy).toBeUndefined();
    expect(plain.config.privacy).toBeUndefined();
    expect(plain.rounds[0].privacy).toBeUndefined();
  });

  it('partition CSV: label counts per peer', () => {
    expect(partitionCsv([peer('a', [3, 1]), peer('b', [0, 5, 2])])).toBe('peer_id,name,samples,class_0,class_1,class_2\na,"Peer, ""a""",4,3,1,0\nb,"Peer, ""b""",7,0,5,2\n');
  });
});
