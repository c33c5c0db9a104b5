import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RdpAccountant } from '../fl/dp/accountant';
import { parseSimArgs, UsageError } from './cli-options';
import { parseRunResult } from '../fl/result-schema';
import { runSimulation, SIM_DEFAULTS, type SimConfig } from './simulation';

describe('private-round options', () => {
  it('parses --secagg and --dp-*, turns the screening off, and refuses what cannot run privately', () => {
    const { config } = parseSimArgs(['--strategy', 'fedavg', '--secagg', '--dp-clip', '0.5', '--dp-noise', '1.1', '--dp-budget', '4']);
    expect(config.privacy).toEqual({ secureAggregation: true, clipNorm: 0.5, noiseMultiplier: 1.1, delta: 1e-5, budget: 4 });
    expect(config.robust).toBe('off');
    expect(parseSimArgs(['--strategy', 'scaffold', '--dp-clip', '1', '--dp-noise', '1', '--dp-delta', '1e-6']).config.privacy).toMatchObject({ secureAggregation: false, delta: 1e-6 });
    expect(parseSimArgs(['--strategy', 'fedavg']).config.privacy).toBeNull();
    const refused = (args: string[], why: RegExp) => expect(() => parseSimArgs(args)).toThrow(why);
    refused(['--strategy', 'fedld', '--secagg', '--dp-clip', '1'], /cannot run FedLD: its principal-gradient step needs the pairwise products/);
    refused(['--strategy', 'fedavg', '--secagg', '--dp-clip', '1', '--robust', 'median'], /replaces the robust screening by client-side clipping/);
    refused(['--strategy', 'fedavg', '--secagg'], /--secagg needs --dp-clip C/);
    refused(['--strategy', 'fedavg', '--dp-noise', '1'], /--dp-noise needs --dp-clip C/);
    refused(['--strategy', 'fedavg', '--dp-clip', '1', '--dp-budget', '3'], /--dp-budget needs --dp-noise S/);
    refused(['--strategy', 'fedavg', '--dp-clip', '0', '--secagg'], /--dp-clip must be in \(0, 1000000\]/);
    refused(['--strategy', 'fedavg', '--secagg', '--dp-clip', '1', '--mode', 'async'], /plain sync rounds/);
    expect(() => parseSimArgs(['--strategy', 'fedavg', '--secagg'])).toThrow(UsageError);
  });
});

const small: SimConfig = {
  ...SIM_DEFAULTS,
  limit: 800,
  testLimit: 300,
  clients: 4,
  rounds: 2,
  strategy: { name: 'fedavg' },
  robust: 'off',
  backend: 'wasm',
};

describe('private rounds in the simulator', () => {
  it('secure aggregation gives plain FedAvg\'s models, and the same clipping and noise with or without it', async () => {
    const plain = await runSimulation(small);
    const secure = await runSimulation({ ...small, privacy: { secureAggregation: true, clipNorm: 20, noiseMultiplier: 0, delta: 1e-5, budget: null } });
    secure.rounds.forEach((r, i) => {
      expect(Math.abs(r.loss - plain.rounds[i].loss)).toBeLessThan(1e-3);
      expect(r.privacy).toMatchObject({ epsilon: null, survivors: 4, secure: true });
    });
    const dp = { clipNorm: 0.5, noiseMultiplier: 0.5, delta: 1e-5, budget: null };
    const masked = await runSimulation({ ...small, privacy: { secureAggregation: true, ...dp } });
    const clear = await runSimulation({ ...small, privacy: { secureAggregation: false, ...dp } });
    masked.rounds.forEach((r, i) => expect(Math.abs(r.loss - clear.rounds[i].loss)).toBeLessThan(1e-3));
    expect(clear.rounds[0].privacy!.secure).toBe(false);
    // The aggregator sees each update with one client's share of the noise unless the sum is all it gets.
    expect(clear.privacy!.epsilonAggregator!).toBeGreaterThan(masked.privacy!.epsilonAggregator!);
  });

  it('charges every round to the accountant and stops before the budget would be passed', async () => {
    const sigma = 3;
    const ledger = new RdpAccountant(1e-5);
    ledger.record(1, sigma);
    ledger.record(1, sigma);
    const afterTwo = ledger.spent().epsilon;
    const budget = (afterTwo + ledger.preview(1, sigma).epsilon) / 2;
    const result = await runSimulation({ ...small, rounds: 5, privacy: { secureAggregation: true, clipNorm: 1, noiseMultiplier: sigma, delta: 1e-5, budget } });
    expect(result.rounds).toHaveLength(2);
    expect(result.rounds[1].privacy!.epsilon).toBeCloseTo(afterTwo, 10);
    expect(result.privacy!.stopped).toMatch(/the privacy budget \(epsilon .*, delta 0.00001\) is spent: one more round would reach epsilon/);
    const file = parseRunResult({ source: 'simulator', ...result });
    expect(file.privacy).toMatchObject({ epsilon: result.privacy!.epsilon, stopped: result.privacy!.stopped });
    expect(file.rounds[1].privacy).toMatchObject({ noiseMultiplier: sigma, samplingRate: 1 });
    expect(file.config.privacy).toMatchObject({ budget });
    await expect(runSimulation({ ...small, privacy: { secureAggregation: true, clipNorm: 1, noiseMultiplier: sigma, delta: 1e-5, budget: 0.1 } })).rejects.toThrow(/the budget allows no round/);
  });
});

describe('the CLI of a private run', () => {
  it('prints eps per round and the privacy summary, and writes them to the JSON', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'fedtab-private-')), 'run.json');
    const args = ['--strategy', 'fedavg', '--clients', '3', '--rounds', '2', '--limit', '400', '--test-limit', '200', '--backend', 'wasm', '--secagg', '--dp-clip', '1', '--dp-noise', '4', '--out', out];
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/sim/cli.ts', ...args], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/global\s+seconds\s+eps\s+screened/);
    expect(r.stdout).toMatch(/privacy: secure aggregation, clip 1, noise multiplier 4; \(eps \d+\.\d{3}, delta 0\.00001\) towards whoever sees the models, eps \d+\.\d{3} towards the aggregator/);
    const json = JSON.parse(readFileSync(out, 'utf8'));
    expect(json.config.privacy).toEqual({ secureAggregation: true, clipNorm: 1, noiseMultiplier: 4, delta: 1e-5, budget: null });
    expect(json.rounds[1].privacy.epsilon).toBeGreaterThan(json.rounds[0].privacy.epsilon);
    expect(json.privacy.epsilon).toBe(json.rounds[1].privacy.epsilon);
  });
});
