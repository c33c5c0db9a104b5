import { describe, expect, it } from 'vitest';
import { AddressBook, type AddressLimits } from './signalling-addresses';
import { SIGNALLING_LIMITS } from './signalling-server';

function book(limits: Partial<AddressLimits> = {}, clock = { t: 1_000_000 }) {
  return { clock, book: new AddressBook<string>({ ...SIGNALLING_LIMITS, ...limits }, () => clock.t) };
}

/** 5,000 registrations spread over `addresses` addresses (10.0.x.y), in turn; returns what each got. */
function flood(b: AddressBook<string>, addresses: number, total = 5000) {
  const outcomes = { admitted: 0, refused: new Map<string, number>(), evicted: 0 };
  for (let i = 0; i < total; i++) {
    const address = `10.0.${Math.floor((i % addresses) / 250)}.${(i % addresses) % 250}`;
    const a = b.admit(address, `fake${i}`);
    if (a.admitted) {
      outcomes.admitted++;
      if (a.evicted !== undefined) outcomes.evicted++;
    } else outcomes.refused.set(a.reason, (outcomes.refused.get(a.reason) ?? 0) + 1);
  }
  return outcomes;
}

describe('AddressBook: places shared among addresses', () => {
  it('5,000 registrations from 160 addresses fill the server, then a real host from another address gets a place', () => {
    const { book: b } = book();
    const f = flood(b, 160);
    expect(f.admitted).toBe(5000);
    expect(b.openConnections).toBe(SIGNALLING_LIMITS.maxConnections);
    const host = b.admit('192.168.1.20', 'host');
    expect(host).toMatchObject({ admitted: true });
    expect((host as { evicted?: string }).evicted).toMatch(/^fake\d+$/);
    expect(b.openConnections).toBe(SIGNALLING_LIMITS.maxConnections);
    // 30 students (one address each) join after it; all get in, each in the place of a flooding address's socket.
    for (let s = 0; s < 30; s++) expect(b.admit(`192.168.1.${100 + s}`, `student${s}`)).toMatchObject({ admitted: true });
    expect(b.openFrom('192.168.1.20')).toBe(1);
    // The flood cannot win the places back: its addresses hold about 31 each, none holds two more than another.
    const again = flood(b, 160, 500);
    expect(again.admitted).toBe(0);
    expect((again.refused.get('global') ?? 0) + (again.refused.get('perAddress') ?? 0)).toBe(500);
    for (let s = 0; s < 30; s++) expect(b.openFrom(`192.168.1.${100 + s}`)).toBe(1);
  });

  it('takes the newest socket of the address holding most, and never from one holding fewer than the newcomer plus two', () => {
    const { book: b } = book({ maxConnections: 5, maxConnectionsPerAddress: 4 });
    for (const id of ['a1', 'a2', 'a3']) b.admit('A', id);
    for (const id of ['b1', 'b2']) b.admit('B', id);
    expect(b.admit('C', 'c1')).toEqual({ admitted: true, evicted: 'a3' });
    // A and B hold 2 each, C 1: C may not take from either (2 < 1 + 2); a fourth address may (2 >= 0 + 2).
    expect(b.admit('C', 'c2')).toEqual({ admitted: false, reason: 'global' });
    expect(b.admit('D', 'd1')).toEqual({ admitted: true, evicted: 'a2' });
    expect(b.admit('D', 'd2')).toEqual({ admitted: false, reason: 'global' });
    // Releasing an evicted socket (its close event) frees nothing twice.
    b.release('A', 'a3');
    b.release('A', 'a2');
    expect(b.openConnections).toBe(5);
    b.release('B', 'b2');
    expect(b.openConnections).toBe(4);
    expect(b.admit('C', 'c2')).toEqual({ admitted: true });
  });

  it('refuses per address, per registration window and when too many addresses are tracked', () => {
    const { book: b, clock } = book({ maxConnectionsPerAddress: 2, maxRegistrationsPerWindow: 3, maxTrackedAddresses: 2, windowMs: 60_000 });
    expect(b.admit('A', 'a1')).toEqual({ admitted: true });
    expect(b.admit('A', 'a2')).toEqual({ admitted: true });
    expect(b.admit('A', 'a3')).toEqual({ admitted: false, reason: 'perAddress' });
    b.release('A', 'a1');
    expect(b.admit('A', 'a4')).toEqual({ admitted: true });
    b.release('A', 'a2');
    expect(b.admit('A', 'a5')).toEqual({ admitted: false, reason: 'registrations' });
    expect(b.admit('B', 'b1')).toEqual({ admitted: true });
    expect(b.admit('C', 'c1')).toEqual({ admitted: false, reason: 'addresses' });
    clock.t += 60_000;
    b.release('B', 'b1');
    // B is idle after the window: forgotten to make room for C.
    expect(b.admit('C', 'c1')).toEqual({ admitted: true });
    expect(b.admit('A', 'a6')).toEqual({ admitted: true });
  });
});

describe('AddressBook: id probes', () => {
  it('counts ID-TAKEN answers and EXPIRE-answerable ids against one limit per window; the same id again is free', () => {
    const { book: b, clock } = book({ maxIdProbesPerWindow: 3, windowMs: 60_000 });
    b.admit('A', 'a1');
    b.recordProbe('A'); // an ID-TAKEN answer
    expect(b.tryProbe('A', 'x')).toBe(true);
    expect(b.tryProbe('A', 'x')).toBe(true);
    expect(b.tryProbe('A', 'y')).toBe(true);
    expect(b.tryProbe('A', 'z')).toBe(false);
    // Still answered for ids it asked about in the window (an offer's candidates follow the offer).
    expect(b.tryProbe('A', 'y')).toBe(true);
    // At the limit its upgrades are refused too.
    expect(b.admit('A', 'a2')).toEqual({ admitted: false, reason: 'probes' });
    clock.t += 60_000;
    expect(b.tryProbe('A', 'z')).toBe(true);
    expect(b.admit('A', 'a2')).toEqual({ admitted: true });
  });

  it('an address the book does not know may not probe', () => {
    const { book: b } = book();
    expect(b.tryProbe('nobody', 'x')).toBe(false);
  });
});
