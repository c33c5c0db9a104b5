import { describe, expect, it } from 'vitest';
import { secureContextNote } from './secure-context';

describe('secure context note', () => {
  it('explains a missing WebGPU on a plain-HTTP LAN page and points to the HTTPS mode', () => {
    const note = secureContextNote({ isSecureContext: false, location: { protocol: 'http:', hostname: '192.168.1.20' } });
    expect(note).toMatch(/192\.168\.1\.20.*not a secure context/);
    expect(note).toMatch(/npm run dev:https/);
  });
  it('says nothing in a secure context (https or localhost)', () => {
    expect(secureContextNote({ isSecureContext: true, location: { protocol: 'http:', hostname: 'localhost' } })).toBeNull();
  });
});
