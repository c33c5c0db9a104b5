import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/** Runtime (not `import type`) imports of tfjs in a source file. */
function runtimeTfImports(path: string): string[] {
  const src = readFileSync(path, 'utf8');
  return [...src.matchAll(/^(?:import|export)\s+(?!type\b)[^;]*?from\s+'(@tensorflow\/[^']+)'/gms)].map((m) => m[1]);
}

describe('the registry stays light', () => {
  it('strategy modules, the validator and the optimizer names never load tfjs (the main thread imports them)', () => {
    const dir = new URL('.', import.meta.url);
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && f !== 'test-session.ts')
      .map((f) => new URL(f, dir).pathname);
    files.push(new URL('../codec/validate.ts', import.meta.url).pathname, new URL('../local-optimizer.ts', import.meta.url).pathname);
    expect(files.length).toBeGreaterThan(10);
    expect(files.filter((f) => runtimeTfImports(f).length > 0)).toEqual([]);
  });
});
