import { describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '../fl/protocol-constants';
import { validateMessage } from '../fl/codec/validate';
import { sessionConfigFromSettings } from './session-controller';
import { DEFAULT_HOST_FORM, formDecompositionAdvice, formIsPrivate, hostFormToSettings, type HostFormValues } from './host-form';

const form = (patch: Partial<HostFormValues> = {}): HostFormValues => ({ ...DEFAULT_HOST_FORM, ...patch });
const PRIVATE: Partial<HostFormValues> = { strategy: 'fedavg', dpClip: '1' };

function errorsOf(v: HostFormValues) {
  const r = hostFormToSettings(v);
  if (r.ok) throw new Error('the form was accepted');
  return r.errors;
}

describe('host form: private aggregation', () => {
  it('is off by default: no privacy field in the settings or the session config', () => {
    const r = hostFormToSettings(form());
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.settings.privacy).toBeUndefined();
    expect('privacy' in sessionConfigFromSettings(r.settings)).toBe(false);
    expect(formIsPrivate(DEFAULT_HOST_FORM)).toBe(false);
  });

  it('is on when the clip norm is set, and the session config carries it to the clients', () => {
    const r = hostFormToSettings(form({ ...PRIVATE, secagg: 'on', dpNoise: '1.1', dpDelta: '0.0001', dpBudget: '4' }));
    expect(r.ok ? null : r.errors).toBeNull();
    if (!r.ok) return;
    const privacy = { secureAggregation: true, clipNorm: 1, noiseMultiplier: 1.1, delta: 0.0001, budget: 4 };
    expect(r.settings.privacy).toEqual(privacy);
    const config = sessionConfigFromSettings(r.settings);
    expect(config.privacy).toEqual(privacy);
    expect(validateMessage({ type: 'welcome', v: PROTOCOL_VERSION, term: 1, slot: 0, round: 0, config, history: [] }).ok).toBe(true);
  });

  it('turns the robust screening and the decomposition off: the clients clip, the aggregator sees no local model', () => {
    const r = hostFormToSettings(form({ ...PRIVATE, robust: 'median', decomposition: 'exact' }));
    expect(r.ok && { robust: r.settings.robust, decomposition: r.settings.decomposition }).toEqual({ robust: 'off', decomposition: 'off' });
    const plain = hostFormToSettings(form({ strategy: 'fedavg', robust: 'median', decomposition: 'exact' }));
    expect(plain.ok && { robust: plain.settings.robust, decomposition: plain.settings.decomposition }).toEqual({ robust: 'median', decomposition: 'exact' });
  });

  it('gives no decomposition advice in a private session (nothing is decomposed there)', () => {
    const tabular: Partial<HostFormValues> = { task: 'tabular', decomposition: 'proxy' };
    expect(formDecompositionAdvice(form(tabular))).not.toBeNull();
    expect(formDecompositionAdvice(form({ ...tabular, ...PRIVATE }))).toBeNull();
  });

  it('refuses a strategy that needs the individual updates, on the strategy field, saying why', () => {
    expect(errorsOf(form({ dpClip: '1' }))).toEqual({ strategy: expect.stringMatching(/^Client-level DP cannot run FedLD: .*use FedAvg, FedProx or SCAFFOLD\.$/) });
    expect(errorsOf(form({ dpClip: '1', secagg: 'on' })).strategy).toMatch(/^Secure aggregation cannot run FedLD: /);
    for (const strategy of ['fedavg', 'fedprox', 'scaffold']) expect(hostFormToSettings(form({ dpClip: '1', strategy })).ok, strategy).toBe(true);
  });

  it('refuses async mode on the mode field', () => {
    expect(errorsOf(form({ ...PRIVATE, mode: 'async' }))).toEqual({ mode: 'Private aggregation runs in synchronous rounds.' });
  });

  it('refuses a budget without noise on the budget field, with the strategy problem beside it', () => {
    expect(errorsOf(form({ ...PRIVATE, dpBudget: '4' }))).toEqual({ dpBudget: 'A privacy budget needs DP noise (a noise multiplier above 0).' });
    expect(Object.keys(errorsOf(form({ dpClip: '1', dpBudget: '4' }))).sort()).toEqual(['dpBudget', 'strategy']);
  });

  it('refuses secure aggregation, noise or a budget without a clip norm, each on its own field', () => {
    const errors = errorsOf(form({ strategy: 'fedavg', secagg: 'on', dpNoise: '1', dpBudget: '3' }));
    expect(errors).toEqual({
      secagg: 'Secure aggregation needs a clip norm: every client bounds its own update by it.',
      dpNoise: 'DP noise needs a clip norm: every client bounds its own update by it.',
      dpBudget: 'A privacy budget needs a clip norm: every client bounds its own update by it.',
    });
  });

  it("checks each privacy field's bounds", () => {
    expect(Object.keys(errorsOf(form({ ...PRIVATE, dpClip: '0', dpNoise: '-1', dpDelta: '1', dpBudget: 'x' }))).sort()).toEqual(['dpBudget', 'dpClip', 'dpDelta', 'dpNoise']);
  });
});
