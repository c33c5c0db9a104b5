import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { numberSetting } from '../fl/settings';
import { parseSimArgs, UsageError } from './cli-options';

const runCli = (args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', 'src/sim/cli.ts', ...args], { encoding: 'utf8', timeout: 120_000 });

describe('simulator options', () => {
  it('parses every documented option', () => {
    const { config, out } = parseSimArgs([
      '--data', 'mnist', '--limit', '500', '--model', 'cnn', '--clients', '4', '--partition', 'dirichlet', '--alpha', '0.1',
      '--strategy', 'fedprox', '--rounds', '2', '--local-epochs', '3', '--batch', '16', '--lr', '0.01', '--mu', '0.5',
      '--fraction', '0.5', '--seed', '9', '--out', 'x.json', '--backend', 'cpu',
    ]);
    expect(config).toMatchObject({ limit: 500, model: 'cnn', clients: 4, partition: { kind: 'dirichlet', alpha: 0.1 }, strategy: { name: 'fedprox', mu: 0.5 }, rounds: 2, localEpochs: 3, batchSize: 16, learningRate: 0.01, fraction: 0.5, seed: 9, backend: 'cpu' });
    expect(out).toBe('x.json');
    expect(parseSimArgs(['--strategy', 'fedld', '--lambda', '0', '--rho', '0.5']).config.strategy).toEqual({ name: 'fedld', lambda: 0, rho: 0.5, weighting: 'uniform', step: 'norm' });
  });

  it('takes the declared flag names as well as the older spellings', () => {
    const { config } = parseSimArgs(['--batch-size', '64', '--learning-rate', '0.02', '--partition', 'shards', '--shards-per-client', '3']);
    expect(config).toMatchObject({ batchSize: 64, learningRate: 0.02, partition: { kind: 'shards', shardsPerClient: 3 } });
    expect(parseSimArgs(['--batch', '64', '--lr', '0.02']).config).toMatchObject({ batchSize: 64, learningRate: 0.02 });
  });

  it('gives each local optimizer its own default learning rate unless one is given', () => {
    const adam = numberSetting('learningRate').defaultBy!.values.adam;
    expect(adam).toBeLessThan(numberSetting('learningRate').defaultBy!.values.sgd);
    expect(parseSimArgs(['--optimizer', 'adam']).config.learningRate).toBe(adam);
    expect(parseSimArgs(['--optimizer', 'sgd']).config.learningRate).toBe(numberSetting('learningRate').defaultBy!.values.sgd);
    expect(parseSimArgs([]).config.learningRate).toBe(numberSetting('learningRate').defaultBy!.values.momentum);
    expect(parseSimArgs(['--optimizer', 'adam', '--lr', '0.05']).config.learningRate).toBe(0.05);
  });

  it('takes every strategy and server-optimizer flag from the registry', () => {
    const { config } = parseSimArgs(['--strategy', 'fedld', '--weighting', 'samples', '--step', 'norm', '--server-opt', 'adam', '--server-lr', '0.01', '--optimizer', 'adam']);
    expect(config.strategy).toEqual({ name: 'fedld', lambda: 0.1, rho: 0.8, weighting: 'samples', step: 'norm', serverOpt: 'adam', serverLr: 0.01 });
    expect(config.optimizer).toBe('adam');
    expect(parseSimArgs(['--strategy', 'scaffold']).config.strategy).toEqual({ name: 'scaffold', weighting: 'samples', controlCosine: 0.9 });
    expect(parseSimArgs(['--strategy', 'scaffold', '--weighting', 'uniform', '--control-cosine=-1']).config.strategy).toEqual({ name: 'scaffold', weighting: 'uniform', controlCosine: -1 });
  });

  it('refuses a local optimizer the strategy cannot follow (SCAFFOLD with Adam), saying why', () => {
    expect(() => parseSimArgs(['--strategy', 'scaffold', '--optimizer', 'adam'])).toThrow(UsageError);
    expect(() => parseSimArgs(['--strategy', 'scaffold', '--optimizer', 'adam'])).toThrow(/--optimizer adam: SCAFFOLD cannot run with the Adam local optimizer/);
    expect(parseSimArgs(['--strategy', 'scaffold', '--optimizer', 'sgd']).config.optimizer).toBe('sgd');
  });

  it('parses the scale and bench options', () => {
    const { config } = parseSimArgs(['--workers', '2', '--partition', 'sizeskew', '--alpha', '0.5', '--sigma', '1.5', '--validation', '0.1', '--evaluate-on', 'validation']);
    expect(config).toMatchObject({ workers: 2, partition: { kind: 'sizeskew', alpha: 0.5, sigma: 1.5 }, validation: 0.1, evaluateOn: 'validation' });
    expect(parseSimArgs([]).config).toMatchObject({ workers: 1, validation: 0, evaluateOn: 'test' });
  });

  it.each([
    [['--clients', '0'], /--clients must be in \[1, 100000\], got "0"/],
    [['--alpha=-1'], /--alpha must be in \(0, 10000\]/],
    [['--alpha', '0'], /--alpha must be in \(0, 10000\]/],
    [['--partition', 'iid', '--alpha', '0.3'], /--alpha applies to --partition dirichlet or sizeskew only/],
    [['--optimizer', 'adam', '--momentum', '0.9'], /--momentum applies to --optimizer momentum only/],
    [['--lr', '0.01', '--learning-rate', '0.02'], /--learning-rate and --lr are the same option/],
    [['--lr', '0'], /--lr must be in \[0.000001, 10\]/],
    [['--batch-size', '5000'], /--batch-size must be in \[1, 4096\]/],
    [['--fraction', '1.5'], /--fraction must be in \(0, 1\]/],
    [['--strategy', 'fedsgd'], /--strategy must be one of fedavg, fedprox, fedld, scaffold/],
    [['--strategy', 'fedld', '--mu', '0.1'], /--mu does not apply to --strategy fedld/],
    [['--rho', '0'], /--rho must be in \(0, 1\]/],
    [['--weighting', 'heavy'], /--weighting expected one of uniform, samples/],
    [['--server-opt', 'rmsprop'], /--server-opt expected one of sgd, avgm, adam/],
    [['--optimizer', 'lbfgs'], /--optimizer expected one of sgd, momentum, adam, got "lbfgs"/],
    [['--partition', 'weird'], /--partition expected one of iid, dirichlet, shards, sizeskew/],
    [['--workers', '0'], /--workers must be in \[1, 64\]/],
    [['--evaluate-on', 'validation'], /needs --validation/],
    [['--validation', '1'], /--validation must be in \[0, 1\)/],
    [['--rounds', 'many'], /--rounds expected a whole number in \[1, 1000000\]/],
    [['--bogus'], /Unknown option '--bogus'/],
    [['--out', 'result.txt'], /--out must name a .json file/],
  ])('rejects %j with a clear message', (args, message) => {
    expect(() => parseSimArgs(args as string[])).toThrow(UsageError);
    expect(() => parseSimArgs(args as string[])).toThrow(message);
  });

  it('exits non-zero with the usage text on a bad option', () => {
    const r = runCli(['--clients', 'zero']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--clients expected a whole number in [1, 100000]');
    expect(r.stderr).toContain('Usage: npm run sim');
  });

  it('exits non-zero with the cause when the data file is broken', () => {
    const r = runCli(['--data', '/nonexistent/file.npz', '--rounds', '1']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('/nonexistent/file.npz');
  });

  it('prints the per-round table and writes the JSON result', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'fedtab-sim-')), 'run.json');
    const r = runCli(['--clients', '2', '--rounds', '2', '--limit', '400', '--test-limit', '200', '--out', out]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/round\s+accuracy\s+test loss\s+local\s+shift\s+aggregation/);
    const json = JSON.parse(readFileSync(out, 'utf8'));
    expect(Object.keys(json)).toEqual(expect.arrayContaining(['config', 'partition', 'rounds', 'final']));
    expect(json.partition.histograms).toHaveLength(2);
    expect(json.rounds).toHaveLength(2);
    expect(Object.keys(json.rounds[0])).toEqual(expect.arrayContaining(['round', 'accuracy', 'loss', 'decomposition', 'strategy', 'perClassAccuracy', 'predictedShare', 'collapse', 'trainMs', 'aggregateMs', 'evalMs']));
    expect(json.rounds[0].strategy).toBe('FedLD (λ 0.1, ρ 0.8; uniform weighting, mean-norm step)');
    expect(json.rounds[0].perClassAccuracy).toHaveLength(10);
    expect(Object.keys(json.rounds[0].decomposition).sort()).toEqual(['aggregation', 'global', 'local', 'shift']);
    expect(json.final.bestAccuracy).toBeGreaterThanOrEqual(json.final.accuracy);
  });
});
