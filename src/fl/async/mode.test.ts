import { describe, expect, it } from 'vitest';
import { validateMessage } from '../codec/validate';
import { sampleMessages } from '../codec/test-messages';
import type { WelcomeMessage } from '../protocol';
import type { AggregationMode } from './mode';

const welcome = (aggregation: unknown): unknown => {
  const w = sampleMessages().find((m) => m.type === 'welcome') as WelcomeMessage;
  return { ...w, config: { ...w.config, aggregation } };
};

describe('SessionConfig.aggregation on the wire', () => {
  it.each<AggregationMode>([
    { mode: 'sync' },
    { mode: 'async', bufferSize: 5, staleness: { kind: 'constant' }, maxStaleness: null },
    { mode: 'async', bufferSize: 1, staleness: { kind: 'poly', a: 0.5 }, maxStaleness: 10 },
    { mode: 'async', bufferSize: 20, staleness: { kind: 'hinge', a: 10, b: 4 }, maxStaleness: 0 },
  ])('accepts %j', (aggregation) => {
    const r = validateMessage(welcome(aggregation));
    expect(r.ok && r.message.type === 'welcome' && r.message.config.aggregation).toEqual(aggregation);
  });

  it('keeps a config without it (sync) as it was', () => {
    const w = sampleMessages().find((m) => m.type === 'welcome') as WelcomeMessage;
    const r = validateMessage(w);
    expect(r.ok && r.message.type === 'welcome' && 'aggregation' in r.message.config).toBe(false);
  });

  it.each([
    [{ mode: 'later' }, /aggregation\.mode/],
    [{ mode: 'async', bufferSize: 0, staleness: { kind: 'constant' }, maxStaleness: null }, /bufferSize/],
    [{ mode: 'async', bufferSize: 5, staleness: { kind: 'exp' }, maxStaleness: null }, /staleness\.kind/],
    [{ mode: 'async', bufferSize: 5, staleness: { kind: 'poly', a: -1 }, maxStaleness: null }, /staleness\.a/],
    [{ mode: 'async', bufferSize: 5, staleness: { kind: 'hinge', a: 1, b: 1.5 }, maxStaleness: null }, /staleness\.b/],
    [{ mode: 'async', bufferSize: 5, staleness: { kind: 'constant' }, maxStaleness: -1 }, /maxStaleness/],
    [{ mode: 'async', bufferSize: 5, staleness: { kind: 'constant' } }, /maxStaleness/],
    ['async', /aggregation/],
  ])('refuses %j', (aggregation, reason) => {
    const r = validateMessage(welcome(aggregation));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(reason);
  });
});
