import { describe, expect, it } from 'vitest';
import type { Message, MessageType } from '../protocol';
import { wireLimits } from './limits';
import { messageSchemas } from './schema';
import { sampleMessages } from './test-messages';
import { MESSAGE_TYPES, validateMessage } from './validate';

const byType = <T extends MessageType>(type: T) => sampleMessages().find((m) => m.type === type) as Extract<Message, { type: T }>;

describe('message schemas (one definition per message)', () => {
  it('has a schema for exactly the message types the samples cover, and MESSAGE_TYPES lists them', () => {
    const sampled = new Set(sampleMessages().map((m) => m.type));
    expect(new Set(Object.keys(messageSchemas().messages))).toEqual(sampled);
    expect(new Set(MESSAGE_TYPES)).toEqual(sampled);
  });

  it('drops unknown fields at every depth, not only at the top', () => {
    const welcome = byType('welcome');
    const c = welcome.config;
    const padded = {
      ...welcome,
      config: { ...c, extra: 1, train: { ...c.train, extra: 2 }, demo: { ...c.demo, extra: 3, partition: { ...c.demo.partition, extra: 4 } }, model: { ...c.model, extra: 5 } },
    };
    const result = validateMessage(padded);
    expect(result.ok && result.message).toEqual(welcome);
    expect(JSON.stringify(result.ok && result.message)).not.toMatch(/extra/);
    const update = byType('update');
    const delta = update.delta.map((t) => ({ ...t, extra: 'x' }));
    const u = validateMessage({ ...update, delta, metrics: { ...update.metrics, extra: 1 } });
    expect(u.ok && u.message).toEqual(update);
    expect(u.ok && Object.keys((u.message as typeof update).delta[0])).toEqual(['name', 'shape', 'values']);
  });

  it('leaves out optional fields that were sent as undefined', () => {
    const result = validateMessage({ ...byType('update'), extras: undefined });
    expect(result.ok && 'extras' in result.message).toBe(false);
    const bye = validateMessage({ ...byType('bye'), term: undefined });
    expect(bye.ok && 'term' in bye.message).toBe(false);
    const start = byType('round-start');
    const nested = validateMessage({ ...start, train: { ...start.train, optimizer: undefined, momentum: undefined } });
    expect(nested.ok && Object.keys((nested.message as typeof start).train)).toEqual(['localEpochs', 'batchSize', 'learningRate', 'seed']);
  });

  it('checks a list bound before reading any entry', () => {
    const hostile = new Array(11);
    Object.defineProperty(hostile, 0, {
      get() {
        throw new Error('entry read before the length was checked');
      },
    });
    const result = validateMessage({ ...byType('hello'), labelHistogram: hostile }, wireLimits({ maxClasses: 10 }));
    expect(result).toEqual({ ok: false, reason: 'hello.labelHistogram: array of 11 entries exceeds 10' });
  });

  it('reports a missing required field by its own expectation, with its path', () => {
    const { config: _c, ...welcome } = byType('welcome');
    expect(validateMessage(welcome)).toEqual({ ok: false, reason: 'welcome.config: expected an object, got a value of type undefined' });
    const w = byType('welcome');
    const { clients: _n, ...demo } = w.config.demo;
    expect(validateMessage({ ...w, config: { ...w.config, demo } })).toEqual({
      ok: false,
      reason: 'welcome.config.demo.clients: expected an integer, got a value of type undefined',
    });
  });

  it('builds the schemas once per limits object', () => {
    const limits = wireLimits({ maxClasses: 7 });
    expect(messageSchemas(limits)).toBe(messageSchemas(limits));
    expect(messageSchemas(limits)).not.toBe(messageSchemas());
  });
});
