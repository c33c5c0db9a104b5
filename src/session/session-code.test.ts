import { describe, expect, it } from 'vitest';
import { hostPeerId, joinLink, normaliseSessionCode, randomSessionCode, SESSION_CODE_LENGTH } from './session-code';

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

  it('puts the code and secret in the hash, and the aggregator only after a handover', () => {
    expect(joinLink('http://10.0.0.5:5173', 'ABCDEF', 'f00')).toBe('http://10.0.0.5:5173/#/join/ABCDEF?s=f00');
    expect(joinLink('http://x/', 'ABCDEF', 'f00', hostPeerId('ABCDEF'))).toBe('http://x/#/join/ABCDEF?s=f00');
    expect(joinLink('http://x/', 'ABCDEF', 'f00', 'p123')).toBe('http://x/#/join/ABCDEF?s=f00&a=p123');
  });
});
