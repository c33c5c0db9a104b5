import type http from 'node:http';
import { describe, expect, it } from 'vitest';
import { clientAddressResolver } from './client-address';

const req = (remoteAddress: string, forwardedFor?: string | string[]) => ({ socket: { remoteAddress }, headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor } }) as unknown as http.IncomingMessage;

describe('the client address behind a reverse proxy', () => {
  const resolve = clientAddressResolver(['127.0.0.1', '::1']);

  it('takes the address the trusted proxy appended, not what the client prepended', () => {
    expect(resolve(req('127.0.0.1', '10.1.2.3'))).toBe('10.1.2.3');
    expect(resolve(req('::ffff:127.0.0.1', '6.6.6.6, 10.1.2.3'))).toBe('10.1.2.3');
    expect(resolve(req('::1', ['6.6.6.6', '10.1.2.3, 127.0.0.1']))).toBe('10.1.2.3');
  });

  it('ignores the header from anyone but a trusted proxy', () => {
    expect(resolve(req('10.9.9.9', '1.2.3.4'))).toBe('10.9.9.9');
    expect(clientAddressResolver([])(req('127.0.0.1', '1.2.3.4'))).toBe('127.0.0.1');
  });

  it('falls back to the proxy itself on a missing or malformed header', () => {
    expect(resolve(req('127.0.0.1'))).toBe('127.0.0.1');
    expect(resolve(req('127.0.0.1', 'not-an-address'))).toBe('127.0.0.1');
    expect(resolve(req('127.0.0.1', '127.0.0.1'))).toBe('127.0.0.1');
  });

  it('refuses a trusted proxy that is not an address', () => {
    expect(() => clientAddressResolver(['proxy.local'])).toThrow('trusted proxy "proxy.local" is not an IP address');
  });
});
