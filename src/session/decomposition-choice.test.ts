import { describe, expect, it } from 'vitest';
import { decompositionAdvice, validationDataFor, validationDataOf } from './decomposition-choice';
import { SESSION_TIMING } from './session-timing';
import { DEFAULT_HOST_FORM, formDecompositionAdvice, hostFormToSettings, withTaskFields } from './host-form';

const tabular = () => withTaskFields(DEFAULT_HOST_FORM, { task: 'tabular', features: '4', classes: '3' });

describe('the decomposition mode a task can measure', () => {
  it('knows which tasks the aggregating tab holds validation data for: the demo task and images of its shape only', () => {
    expect(validationDataFor(DEFAULT_HOST_FORM)).toBe('aggregator');
    expect(validationDataFor({ ...DEFAULT_HOST_FORM, task: 'images', imageHeight: '28', imageWidth: '28', imageChannels: '1', classes: '10' })).toBe('aggregator');
    expect(validationDataFor({ ...DEFAULT_HOST_FORM, task: 'images', imageHeight: '32', imageWidth: '32', imageChannels: '3', classes: '10' })).toBe('none');
    expect(validationDataFor({ ...DEFAULT_HOST_FORM, task: 'images', classes: '4' })).toBe('none');
    expect(validationDataFor({ ...DEFAULT_HOST_FORM, task: 'tabular', features: '784', classes: '10' })).toBe('none');
    expect(validationDataOf(undefined)).toBe('aggregator');
    expect(validationDataOf({ kind: 'tabular', features: 4, classes: 3 })).toBe('none');
  });

  it('defaults to proxy for every task (exact, which sends local models to every peer, is the host\'s choice), which reaches the session settings', () => {
    expect(DEFAULT_HOST_FORM.decomposition).toBe('proxy');
    const table = tabular();
    expect(table.decomposition).toBe('proxy');
    const r = hostFormToSettings({ ...table, decomposition: 'exact' });
    expect(r.ok && r.settings).toMatchObject({ task: { kind: 'tabular', features: 4, classes: 3 }, decomposition: 'exact' });
  });

  it('keeps a mode the host chose when the task changes', () => {
    expect(withTaskFields({ ...DEFAULT_HOST_FORM, decomposition: 'off' }, { task: 'tabular' }).decomposition).toBe('off');
    expect(withTaskFields({ ...DEFAULT_HOST_FORM, decomposition: 'exact' }, { task: 'tabular' }).decomposition).toBe('exact');
    expect(withTaskFields({ ...tabular(), decomposition: 'proxy' }, { features: '5' }).decomposition).toBe('proxy');
    // Changing a field that leaves the validation data as it was keeps the mode too.
    expect(withTaskFields({ ...tabular(), decomposition: 'exact' }, { classes: '4' }).decomposition).toBe('exact');
  });

  it('says before Start why proxy measures nothing for a tabular task, and offers exact', () => {
    expect(formDecompositionAdvice(DEFAULT_HOST_FORM)).toBeNull();
    const advice = formDecompositionAdvice({ ...tabular(), decomposition: 'proxy' });
    expect(advice?.problem).toMatch(/Not measured in any round: the proxy estimator needs validation data, and the aggregating tab holds no validation data for this task/);
    expect(advice?.problem).toMatch(/sends every client's local model to every participant/);
    // The default form for such a task shows it before Start.
    expect(formDecompositionAdvice(tabular())?.fix).toEqual({ decomposition: 'exact' });
    expect(advice?.fix).toEqual({ decomposition: 'exact' });
    expect(formDecompositionAdvice({ ...tabular(), ...advice!.fix })?.fix).toBeUndefined();
  });

  it('says where exact stops measuring a task without validation data: above the participants exact is capped at', () => {
    const cap = SESSION_TIMING.exactDecompositionMaxParticipants;
    const advice = formDecompositionAdvice({ ...tabular(), decomposition: 'exact' });
    expect(advice?.problem).toBe(`Measured while at most ${cap} clients take part: with more, local models stop travelling to every peer and the aggregator falls back to proxy, which measures nothing for this task.`);
    expect(advice?.fix).toBeUndefined();
    expect(formDecompositionAdvice({ ...DEFAULT_HOST_FORM, decomposition: 'exact' })).toBeNull();
  });

  it('says that asynchronous aggregation measures nothing without validation data, and offers synchronous rounds with exact', () => {
    const advice = formDecompositionAdvice({ ...tabular(), mode: 'async' });
    expect(advice?.problem).toMatch(/asynchronous aggregation estimates the decomposition with the proxy estimator only/);
    expect(advice?.fix).toEqual({ mode: 'sync', decomposition: 'exact' });
    expect(formDecompositionAdvice({ ...tabular(), mode: 'async', ...advice!.fix })?.fix).toBeUndefined();
    // With validation data, or turned off, there is nothing to say.
    expect(formDecompositionAdvice({ ...DEFAULT_HOST_FORM, mode: 'async' })).toBeNull();
    expect(decompositionAdvice('off', 'async', 'none')).toBeNull();
  });
});
