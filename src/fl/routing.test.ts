import { describe, expect, it } from 'vitest';
import { messageSchemas } from './codec/schema';
import { MESSAGE_TYPES, validateMessage } from './codec/validate';
import { assertNever } from './exhaustive';
import type { Message, MessageType } from './protocol';
import { allowedBeforeAdmission, isFor, ROUTES, routeOf, stampTerm, termToCheck, type Handler } from './routing';
import { oneSmallMessageOfEachType } from './testing/one-of-each';
import { sampleMessages } from './codec/test-messages';

const HANDLERS: Handler[] = ['auth', 'session', 'engine', 'client'];
const samples = oneSmallMessageOfEachType();

/** The entries of a message's schema (record() pipes an object schema). */
function schemaEntries(type: MessageType): Record<string, { type: string }> {
  const pipe = (messageSchemas().messages[type] as unknown as { pipe: Array<{ type: string; entries?: Record<string, { type: string }> }> }).pipe;
  const object = pipe.find((p) => p.type === 'object');
  if (object?.entries) return object.entries;
  // A message with steps (secagg): the term is the same question for every step's record.
  const steps = sampleMessages().filter((m) => m.type === type);
  if (steps.length === 0) throw new Error(`no object schema for ${type}`);
  return Object.fromEntries(steps.flatMap((m) => Object.keys(m)).map((k) => [k, { type: k === 'term' ? 'optional' : 'field' }]));
}

describe('the message routing table', () => {
  it('has exactly one row per message type the schemas define', () => {
    expect(Object.keys(ROUTES).sort()).toEqual([...MESSAGE_TYPES].sort());
  });

  it('says a message carries a term exactly when its schema has one, and a stamped term is optional on the wire', () => {
    for (const type of MESSAGE_TYPES) {
      const entries = schemaEntries(type);
      expect({ type, hasTerm: 'term' in entries }).toEqual({ type, hasTerm: routeOf(type).term !== 'none' });
      if (routeOf(type).term === 'stamped') expect({ type, term: entries.term.type }).toEqual({ type, term: 'optional' });
    }
  });

  it('is consistent: strangers send only the handshake, which passes before admission; engines and clients get only messages that go their way', () => {
    for (const type of MESSAGE_TYPES) {
      const r = routeOf(type);
      expect(r.handlers.length, type).toBeGreaterThan(0);
      expect(new Set(r.handlers).size, type).toBe(r.handlers.length);
      expect({ type, stranger: r.from === 'stranger' }).toEqual({ type, stranger: r.handlers.includes('auth') });
      if (r.handlers.includes('auth')) expect({ type, handlers: r.handlers, beforeAdmission: r.beforeAdmission }).toEqual({ type, handlers: ['auth'], beforeAdmission: true });
      if (r.handlers.includes('engine')) expect({ type, direction: r.direction }).not.toEqual({ type, direction: 'aggregator->client' });
      if (r.handlers.includes('client')) expect({ type, direction: r.direction }).not.toEqual({ type, direction: 'client->aggregator' });
      if (r.from === 'aggregator') expect({ type, direction: r.direction }).toEqual({ type, direction: 'aggregator->client' });
    }
  });

  it('isFor follows the handlers column for every type', () => {
    for (const type of MESSAGE_TYPES) {
      for (const h of HANDLERS) expect({ type, h, for: isFor(samples[type], h) }).toEqual({ type, h, for: routeOf(type).handlers.includes(h) });
    }
  });

  it('allows before admission what the table allows, and nothing unknown', () => {
    for (const type of MESSAGE_TYPES) expect({ type, allowed: allowedBeforeAdmission(type) }).toEqual({ type, allowed: routeOf(type).beforeAdmission });
    for (const type of ['', 'nope', '__proto__', 'constructor', 'toString', 'hasOwnProperty']) expect(allowedBeforeAdmission(type), type).toBe(false);
    expect(MESSAGE_TYPES.filter(allowedBeforeAdmission).sort()).toEqual(['auth-challenge', 'auth-hello', 'auth-proof', 'bye', 'error', 'hello']);
  });

  it('checks the sender and stamped terms, not an election term, and only when one is there', () => {
    for (const type of MESSAGE_TYPES) {
      const m = { ...samples[type], term: 7 } as Message;
      const rule = routeOf(type).term;
      expect({ type, checked: termToCheck(m) }).toEqual({ type, checked: rule === 'sender' || rule === 'stamped' ? 7 : undefined });
    }
    const { term: _, ...withoutTerm } = { ...samples['round-start'], term: 3 };
    expect(termToCheck(withoutTerm as Message)).toBeUndefined();
  });

  it('stamps the term onto the stamped types only, leaving other messages untouched', () => {
    for (const type of MESSAGE_TYPES) {
      const m = samples[type];
      const out = stampTerm(m, 5);
      if (routeOf(type).term === 'stamped') {
        expect(out).toEqual({ ...m, term: 5 });
        expect(validateMessage(out).ok, type).toBe(true);
      } else expect(out, type).toBe(m);
    }
  });

  it('the fixture holds one valid message of each type', () => {
    for (const type of MESSAGE_TYPES) {
      expect(samples[type].type).toBe(type);
      expect({ type, result: validateMessage(samples[type]) }).toMatchObject({ type, result: { ok: true } });
    }
  });
});

describe('assertNever', () => {
  it('throws naming what got through, when a value outside its type reaches it', () => {
    expect(() => assertNever({ type: 'smuggled' } as never, 'session message')).toThrow('unexpected session message: type "smuggled"');
    expect(() => assertNever(3 as never)).toThrow('unexpected value: 3');
  });
});
