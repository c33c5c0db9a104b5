import { describe, expect, it } from 'vitest';
import { parseRelayArgs } from './relay-cli';

describe('standalone relay arguments', () => {
  it('takes the port from the flag and the secret from the environment only', () => {
    expect(parseRelayArgs([], { FEDTAB_RELAY_SECRET: 'x'.repeat(20) })).toEqual({ port: 3478, secret: 'x'.repeat(20) });
    expect(parseRelayArgs(['--port', '443'], { FEDTAB_RELAY_SECRET: 'x'.repeat(20) }).port).toBe(443);
    expect(() => parseRelayArgs([], {})).toThrow('FEDTAB_RELAY_SECRET must hold the shared secret');
    expect(() => parseRelayArgs(['--secret', 's'], { FEDTAB_RELAY_SECRET: 'x'.repeat(20) })).toThrow('unknown argument "--secret"');
    expect(() => parseRelayArgs(['--port', 'x'], { FEDTAB_RELAY_SECRET: 'x'.repeat(20) })).toThrow('--port: "x" is not a port number');
  });
});
