import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { forbiddenImports, importCycles, importGraph, sourceFiles, type ImportGraph, type LayerTable } from '../scripts/lib/import-graph';

const ROOT = path.resolve(__dirname, '..');
const SRC = path.join(ROOT, 'src');

/**
 * The layers, each with the layers it may import (type-only imports and test files included; e2e/ and test/ may
 * import anything and are not checked). ui > session > net, worker > data > fl: the training and snapshot workers
 * read and write the tab's stored data, so worker sits above data; net and worker do not import each other (the
 * page's decode worker reaches the peer transport through session). src/sim and scripts/ drive the app's layers
 * in Node: they may import anything below ui, and nothing in src imports them (scripts import src/sim).
 */
const LAYERS: LayerTable = {
  fl: [],
  data: ['fl'],
  worker: ['data', 'fl'],
  net: ['fl'],
  session: ['net', 'worker', 'data', 'fl'],
  ui: ['session', 'net', 'worker', 'data', 'fl'],
  sim: ['session', 'net', 'worker', 'data', 'fl'],
  scripts: ['sim', 'session', 'net', 'worker', 'data', 'fl'],
};

/** A repo-relative path's layer: src/<layer>/..., or scripts. */
function layerOf(file: string): string | undefined {
  const [top, layer, rest] = file.split('/');
  if (top === 'scripts') return 'scripts';
  return top === 'src' && rest !== undefined ? layer : undefined;
}

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
});

describe('the layers of src and scripts', () => {
  const files = [...sourceFiles(SRC, true).map((f) => `src/${f}`), ...sourceFiles(path.join(ROOT, 'scripts'), true).map((f) => `scripts/${f}`)];
  const graph = importGraph(ROOT, files);

  it('the check itself finds an upward import, a peer import, a file in no layer, and lets allowed ones through', () => {
    const tiny: ImportGraph = new Map([
      ['src/fl/a.ts', ['src/fl/b.ts']],
      ['src/data/c.ts', ['src/fl/a.ts', 'src/session/d.ts']],
      ['src/net/e.ts', ['src/worker/f.ts']],
      ['src/loose.ts', ['src/fl/a.ts']],
      ['scripts/g.ts', ['src/sim/h.ts', 'src/ui/i.ts']],
    ]);
    expect(forbiddenImports(tiny, layerOf, LAYERS)).toEqual([
      'scripts/g.ts -> src/ui/i.ts (scripts may import only sim, session, net, worker, data, fl)',
      'src/data/c.ts -> src/session/d.ts (data may import only fl)',
      'src/loose.ts is in no layer of the table',
      'src/net/e.ts -> src/worker/f.ts (net may import only fl)',
    ]);
    expect(graph.get('scripts/bench-sim-scale.ts')?.some((d) => d.startsWith('src/sim/'))).toBe(true);
  });

  it('no file imports a layer its own may not (type-only imports and test files included)', () => {
    expect(forbiddenImports(graph, layerOf, LAYERS)).toEqual([]);
  });
});
