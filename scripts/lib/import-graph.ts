/**
 * The import graph of the project's own TypeScript modules, read from their import and export statements (type-only
 * ones included: no import goes upward, not even a type), and its cycles. Relative specifiers only; `?worker`/`?url`
 * suffixes are stripped. Used by test/import-graph.test.ts.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

export type ImportGraph = Map<string, string[]>;

const IMPORT = /(?:import|export)\s[^'"]*?from\s*['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)|import\s+['"](\.[^'"]+)['"]/g;

/** Every .ts/.tsx file under `root` (test files too when `withTests`), as paths relative to `root`. */
export function sourceFiles(root: string, withTests = false): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const full = path.join(dir, name);
      if (statSync(full).isDirectory()) walk(full);
      else if (/\.tsx?$/.test(name) && (withTests || !/\.test\.tsx?$/.test(name))) out.push(path.relative(root, full));
    }
  };
  walk(root);
  return out.sort();
}

/** file -> the project files it imports (relative to `root`); imports that resolve to no file of the set are left out. */
export function importGraph(root: string, files: readonly string[]): ImportGraph {
  const known = new Set(files);
  const graph: ImportGraph = new Map();
  for (const file of files) {
    const deps = new Set<string>();
    for (const m of readFileSync(path.join(root, file), 'utf8').matchAll(IMPORT)) {
      const spec = (m[1] ?? m[2] ?? m[3]).replace(/\?.*$/, '');
      const base = path.normalize(path.join(path.dirname(file), spec));
      const hit = [base, `${base}.ts`, `${base}.tsx`, path.join(base, 'index.ts')].find((c) => known.has(c));
      if (hit) deps.add(hit);
    }
    graph.set(file, [...deps]);
  }
  return graph;
}

/** Strongly connected components of more than one file (or a file importing itself): each one is a cycle. */
export function importCycles(graph: ImportGraph): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) cycles.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return cycles;
}

/** For each layer, the other layers its files may import (a layer may always import itself). */
export type LayerTable = Readonly<Record<string, readonly string[]>>;

/**
 * Every import in `graph` that `allowed` forbids, as "from -> to (why)", sorted; a file that `layerOf` puts in no
 * layer of the table is reported once as such.
 */
export function forbiddenImports(graph: ImportGraph, layerOf: (file: string) => string | undefined, allowed: LayerTable): string[] {
  const inTable = (layer: string | undefined): layer is string => layer !== undefined && Object.hasOwn(allowed, layer);
  const out: string[] = [];
  for (const [file, deps] of graph) {
    const from = layerOf(file);
    if (!inTable(from)) {
      out.push(`${file} is in no layer of the table`);
      continue;
    }
    for (const dep of deps) {
      const to = layerOf(dep);
      if (!inTable(to) || to === from || allowed[from].includes(to)) continue;
      const may = allowed[from].length ? allowed[from].join(', ') : 'nothing outside itself';
      out.push(`${file} -> ${dep} (${from} may import only ${may})`);
    }
  }
  return out.sort();
}
