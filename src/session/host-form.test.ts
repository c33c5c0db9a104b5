import { describe, expect, it } from 'vitest';
import { numberSetting } from '../fl/settings';
import { DEFAULT_HOST_FORM, describePartition, describeStrategy, hostFormToSettings, withOptimizer, type HostFormValues } from './host-form';

const form = (patch: Partial<HostFormValues> = {}, params: Record<string, string> = {}): HostFormValues => ({
  ...DEFAULT_HOST_FORM,
  ...patch,
  strategyParams: { ...DEFAULT_HOST_FORM.strategyParams, ...params },
});

describe('hostFormToSettings', () => {
  it('turns the defaults into FedLD, proxy decomposition (private by default), float16, 10 rounds', () => {
    const r = hostFormToSettings(form());
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.name).toBe('Host');
    expect(r.settings).toMatchObject({
      model: 'mlp',
      strategy: { name: 'fedld', lambda: 0.1, rho: 0.8 },
      rounds: 10,
      decomposition: 'proxy',
      codec: 'float16',
      demoPartition: { kind: 'dirichlet', alpha: 0.5 },
      hostTrains: true,
    });
  });

  it("defends with 'clip' by default and passes another robust mode through", () => {
    const d = hostFormToSettings(form());
    expect(d.ok && d.settings.robust).toBe('clip');
    const m = hostFormToSettings(form({ robust: 'median' }));
    expect(m.ok && m.settings.robust).toBe('median');
  });

  it('converts seconds to milliseconds and keeps only the chosen strategy parameters', () => {
    const r = hostFormToSettings(form({ strategy: 'fedprox', deadline: '2.5' }, { 'fedprox.mu': '0.05', 'fedld.lambda': 'garbage' }));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.settings.strategy).toEqual({ name: 'fedprox', mu: 0.05 });
    expect(r.settings.roundDeadlineMs).toBe(2500);
    const avg = hostFormToSettings(form({ strategy: 'fedavg' }, { 'fedprox.mu': '', 'fedld.rho': '7' }));
    expect(avg.ok && avg.settings.strategy).toEqual({ name: 'fedavg' });
  });

  it('offers every registered strategy with its declared parameters, and the server optimizer', () => {
    const fedld = hostFormToSettings(form({}, { 'fedld.weighting': 'samples', 'server.serverOpt': 'avgm', 'server.serverLr': '0.5' }));
    expect(fedld.ok && fedld.settings.strategy).toEqual({ name: 'fedld', lambda: 0.1, rho: 0.8, weighting: 'samples', step: 'norm', serverOpt: 'avgm', serverLr: 0.5 });
    const scaffold = hostFormToSettings(form({ strategy: 'scaffold', optimizer: 'sgd' }, { 'scaffold.weighting': 'uniform' }));
    expect(scaffold.ok && scaffold.settings).toMatchObject({ strategy: { name: 'scaffold', weighting: 'uniform', controlCosine: 0.9 }, optimizer: 'sgd' });
    const bad = hostFormToSettings(form({}, { 'server.serverOpt': 'rmsprop' }));
    expect(!bad.ok && bad.errors['param:server.serverOpt']).toMatch(/Server optimizer: expected one of sgd, avgm, adam/);
  });

  it('builds each partition kind', () => {
    const iid = hostFormToSettings(form({ partition: 'iid', alpha: 'x' }));
    expect(iid.ok && iid.settings.demoPartition).toEqual({ kind: 'iid' });
    const shards = hostFormToSettings(form({ partition: 'shards', shardsPerClient: '3' }));
    expect(shards.ok && shards.settings.demoPartition).toEqual({ kind: 'shards', shardsPerClient: 3 });
  });

  it('names every bad field', () => {
    const r = hostFormToSettings(
      form({ name: '  ', rounds: '2.5', batchSize: '0', fraction: '1.5', learningRate: '', alpha: '-1', deadline: 'soon', seed: '-3' }, { 'fedld.rho': '0' }),
    );
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(Object.keys(r.errors).sort()).toEqual(['alpha', 'batchSize', 'deadline', 'fraction', 'learningRate', 'name', 'param:fedld.rho', 'rounds', 'seed'].sort());
    expect(r.errors.rounds).toMatch(/whole number from 1 to 1000000/);
    expect(r.errors.batchSize).toMatch(/from 1 to 4096/);
  });

  it('checks each run setting against its declared bounds, and only where it applies', () => {
    const r = hostFormToSettings(form({ rounds: '1000001', learningRate: '11', alpha: '0', momentum: '2', bufferSize: '0' }));
    expect(!r.ok && r.errors).toEqual({
      rounds: 'Enter a whole number from 1 to 1000000.',
      learningRate: 'Enter a number from 0.000001 to 10.',
      alpha: 'Enter a number above 0 and at most 10000.',
      momentum: 'Enter a number from 0 to 1.',
    });
    const off = hostFormToSettings(form({ decomposition: 'off', decompositionEvery: 'x', optimizer: 'sgd', momentum: 'x' }));
    expect(off.ok && off.settings).toMatchObject({ decompositionEvery: 1, momentum: 0.5 });
  });

  it('rejects over-long names', () => {
    const r = hostFormToSettings(form({ name: 'x'.repeat(41) }));
    expect(r.ok || r.errors.name).toMatch(/At most 40/);
  });
});

describe('descriptions', () => {
  it('summarises strategy and partition for the header', () => {
    expect(describeStrategy({ name: 'fedld', lambda: 0.1, rho: 0.8 })).toBe('FedLD (λ 0.1, ρ 0.8; uniform weighting, mean-norm step)');
    expect(describeStrategy({ name: 'fedld', lambda: 0.1, rho: 0.8, step: 'spec' })).toBe('FedLD (λ 0.1, ρ 0.8; paper-exact)');
    expect(describeStrategy({ name: 'fedld', lambda: 0.1, rho: 0.8, weighting: 'samples', step: 'spec', serverOpt: 'adam' })).toBe(
      'FedLD (λ 0.1, ρ 0.8; samples weighting, specified step) + FedAdam (lr 1, β1 0.9, β2 0.99, τ 0.001)',
    );
    expect(describeStrategy({ name: 'scaffold' })).toBe('SCAFFOLD (sample-weighted; delta-c check at cosine 0.9)');
    expect(describeStrategy({ name: 'fedprox', mu: 0.01 })).toBe('FedProx (μ 0.01)');
    expect(describeStrategy({ name: 'fedavg' })).toBe('FedAvg');
    expect(describePartition({ kind: 'dirichlet', alpha: 0.5 })).toBe('Dirichlet α 0.5');
  });
});

describe('the local optimizer in the host form', () => {
  it("shows each optimizer's own default learning rate, and keeps one the host typed", () => {
    const rates = numberSetting('learningRate').defaultBy!.values;
    expect(DEFAULT_HOST_FORM.learningRate).toBe(String(rates[DEFAULT_HOST_FORM.optimizer]));
    const adam = withOptimizer(DEFAULT_HOST_FORM, 'adam');
    expect(adam).toMatchObject({ optimizer: 'adam', learningRate: String(rates.adam) });
    expect(withOptimizer(adam, 'sgd').learningRate).toBe(String(rates.sgd));
    const typed = withOptimizer({ ...DEFAULT_HOST_FORM, learningRate: '0.2' }, 'adam');
    expect(typed).toMatchObject({ optimizer: 'adam', learningRate: '0.2' });
    const r = hostFormToSettings(adam);
    expect(r.ok && r.settings).toMatchObject({ optimizer: 'adam', learningRate: rates.adam });
  });

  it('refuses one the strategy cannot follow (SCAFFOLD with Adam) on the optimizer field, saying why', () => {
    const r = hostFormToSettings({ ...DEFAULT_HOST_FORM, strategy: 'scaffold', optimizer: 'adam' });
    expect(!r.ok && r.errors.optimizer).toMatch(/SCAFFOLD cannot run with the Adam local optimizer/);
    expect(hostFormToSettings({ ...DEFAULT_HOST_FORM, strategy: 'scaffold', optimizer: 'momentum' }).ok).toBe(true);
    expect(hostFormToSettings({ ...DEFAULT_HOST_FORM, strategy: 'fedavg', optimizer: 'adam' }).ok).toBe(true);
  });
});

describe('the session task in the host form', () => {
  it('defines an image or tabular task and the MLP layers', () => {
    const images = hostFormToSettings({ ...DEFAULT_HOST_FORM, task: 'images', imageHeight: '32', imageWidth: '32', imageChannels: '3', classes: '4', hidden: '128, 64' });
    expect(images.ok && images.settings).toMatchObject({ task: { kind: 'images', height: 32, width: 32, channels: 3, classes: 4 }, model: 'mlp', hidden: [128, 64] });
    const table = hostFormToSettings({ ...DEFAULT_HOST_FORM, task: 'tabular', features: '4', classes: '3', hidden: '16' });
    expect(table.ok && table.settings).toMatchObject({ task: { kind: 'tabular', features: 4, classes: 3 }, hidden: [16] });
    const linear = hostFormToSettings({ ...DEFAULT_HOST_FORM, hidden: '' });
    expect(linear.ok && linear.settings.hidden).toEqual([]);
  });

  it('says what is wrong: a CNN on table rows, bad sizes, bad layer lists', () => {
    const r = hostFormToSettings({ ...DEFAULT_HOST_FORM, task: 'tabular', model: 'cnn', features: '0', classes: '1' });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.errors.model).toMatch(/CNN needs images/);
      expect(r.errors.features).toBeDefined();
      expect(r.errors.classes).toBeDefined();
    }
    const bad = hostFormToSettings({ ...DEFAULT_HOST_FORM, hidden: '64, x' });
    expect(!bad.ok && bad.errors.hidden).toMatch(/layer sizes/);
  });
});
