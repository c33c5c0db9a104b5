import { describe, expect, it } from 'vitest';
import type { WelcomeMessage } from '../protocol';
import { sampleMessages } from './test-messages';
import { validateMessage } from './validate';

const welcome = () => structuredClone(sampleMessages().find((m): m is WelcomeMessage => m.type === 'welcome')!);

describe("the session config's robust mode on the wire", () => {
  it('accepts every robust mode and a config without one (the default applies)', () => {
    for (const robust of ['off', 'clip', 'trimmed-mean', 'median'] as const) {
      const m = welcome();
      m.config.robust = robust;
      const r = validateMessage(m);
      expect(r.ok && r.message.type === 'welcome' && r.message.config.robust).toBe(robust);
    }
    const m = welcome();
    delete m.config.robust;
    const r = validateMessage(m);
    expect(r.ok).toBe(true);
    expect(r.ok && r.message.type === 'welcome' && 'robust' in r.message.config).toBe(false);
  });

  it('refuses an unknown robust mode with the path in the reason', () => {
    for (const bad of ['krum', '', 3, null]) {
      const m = welcome() as unknown as { config: Record<string, unknown> };
      m.config.robust = bad;
      const r = validateMessage(m);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.reason).toMatch(/welcome\.config\.robust/);
    }
  });
});
