import { describe, expect, it } from 'vitest';
import { assertValidPeerId } from '../net/create-peer';
import { formatSecret, hostPeerId, joinLink, normaliseSecret, normaliseSessionCode, randomSecret, randomSessionCode, SESSION_CODE_LENGTH } from './session-code';

describe('session codes and links', () => {
  it('makes readable codes that survive being typed back in lower case with a dash', () => {
    for (let i = 0; i < 50; i++) {
      const code = randomSessionCode();
      expect(code).toHaveLength(SESSION_CODE_LENGTH);
      expect(code).not.toMatch(/[01OIL]/);
      expect(normaliseSessionCode(`${code.slice(0, 3).toLowerCase()}-${code.slice(3)}`)).toBe(code);
    }
  });

  it('rejects codes of the wrong length or with look-alike characters', () => {
    expect(normaliseSessionCode('ABC')).toBeNull();
    expect(normaliseSessionCode('ABCDE0')).toBeNull();
  });

  it('puts the code and secret in the hash, and the aggregator only after a handover', async () => {
    const hostId = await hostPeerId('ABCDEF', 'f00');
    expect(joinLink('http://10.0.0.5:5173', 'ABCDEF', 'f00')).toBe('http://10.0.0.5:5173/#/join/ABCDEF?s=f00');
    expect(joinLink('http://x/', 'ABCDEF', 'f00', hostId, hostId)).toBe('http://x/#/join/ABCDEF?s=f00');
    expect(joinLink('http://x/', 'ABCDEF', 'f00', 'p123', hostId)).toBe('http://x/#/join/ABCDEF?s=f00&a=p123');
  });

  it("derives the host's peer id from the code and the secret: the code alone does not give it", async () => {
    const id = await hostPeerId('ABCDEF', 'secret-1');
    expect(id).toMatch(/^fedtab-[0-9a-f]{20}$/);
    expect(await hostPeerId('ABCDEF', 'secret-1')).toBe(id);
    expect(await hostPeerId('ABCDEF', 'secret-2')).not.toBe(id);
    expect(await hostPeerId('ABCDEG', 'secret-1')).not.toBe(id);
    expect(id).not.toContain('ABCDEF');
    expect(() => assertValidPeerId(id)).not.toThrow();
  });

  it('makes a passphrase a person can type: 10 characters without look-alikes, normalised however it is typed', () => {
    const secrets = Array.from({ length: 200 }, () => randomSecret());
    for (const secret of secrets) expect(secret).toMatch(/^[ABCDEFGHJKMNPQRSTUVWXYZ2-9]{10}$/);
    expect(new Set(secrets).size).toBe(200);
    const secret = secrets[0];
    expect(normaliseSecret(` ${formatSecret(secret).toLowerCase()} `)).toBe(secret);
    expect(normaliseSecret(`${secret.slice(0, 5)} ${secret.slice(5)}`)).toBe(secret);
    expect(formatSecret(secret)).toBe(`${secret.slice(0, 5)}-${secret.slice(5)}`);
    // Anything else (a longer secret from an older link) is used as it is.
    expect(normaliseSecret('a1b2c3d4e5f6a1b2c3d4e5f6')).toBe('a1b2c3d4e5f6a1b2c3d4e5f6');
  });
});
