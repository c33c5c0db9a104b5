import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { strategyListMarkdown, withStrategyList } from './docs';
import { paramFlag } from './params';
import { listStrategies } from './registry';

describe('README strategy list', () => {
  it('is the one generated from the registry', () => {
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    expect(withStrategyList(readme)).toBe(readme);
  });

  it('names every strategy and every parameter flag', () => {
    const text = strategyListMarkdown();
    for (const s of listStrategies()) {
      expect(text).toContain(`--strategy ${s.name}`);
      for (const p of s.params) expect(text).toContain(`--${paramFlag(p.name)}`);
    }
    expect(text).toContain('--server-opt sgd|avgm|adam');
  });
});
