import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { importCycles, importGraph, sourceFiles, type ImportGraph } from '../scripts/lib/import-graph';

const SRC = path.resolve(__dirname, '../src');

describe('the import graph of src', () => {
  const files = sourceFiles(SRC);
  const graph = importGraph(SRC, files);

  it('finds the imports it is meant to find (the reader itself works)', () => {
    expect(files.length).toBeGreaterThan(100);
    expect(graph.get('fl/engine.ts')).toContain('fl/hello.ts');
    expect(graph.get('session/session-engine.ts')).toContain('session/async-round-engine.ts');
    const tiny: ImportGraph = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts']],
      ['d.ts', ['a.ts']],
    ]);
    expect(importCycles(tiny)).toEqual([['a.ts', 'b.ts', 'c.ts']]);
  });

  it('has no import cycle (type-only imports included)', () => {
    expect(importCycles(graph)).toEqual([]);
  });

  it('src/fl, the FL core, imports nothing from the other layers', () => {
    const outward = [...graph].flatMap(([file, deps]) => (file.startsWith('fl/') ? deps.filter((d) => !d.startsWith('fl/')).map((d) => `${file} -> ${d}`) : []));
    expect(outward).toEqual([]);
  });
});
