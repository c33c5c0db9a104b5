/**
 * Busy stretches of a main thread from a V8 CPU profile (Chrome DevTools Protocol, Profiler.stop): runs of
 * non-idle samples, each broken down by self time into JavaScript (the page's own code and its libraries),
 * garbage collection and "(program)" (the browser's own work on that thread).
 */

export interface CpuProfileNode {
  id: number;
  children?: number[];
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
}

export interface CpuProfile {
  nodes: CpuProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  /** Microseconds since the previous sample (the first: since startTime). */
  timeDeltas: number[];
}

export interface Stretch {
  /** Milliseconds since the profile started. */
  startMs: number;
  durationMs: number;
  /** Self time in JavaScript. */
  fedtabMs: number;
  gcMs: number;
  /** The functions with the most self time in the stretch, [label, ms]. */
  top: [string, number][];
  /** The project's own functions (src/) under which most time went (the innermost one on each sample's stack), [label, ms]. */
  topOwn: [string, number][];
}

/** Names a profile frame for people; a source map resolver can turn bundle positions back into source ones. */
export type FrameLabeller = (frame: CpuProfileNode['callFrame']) => string;

const SPECIAL = new Set(['(idle)', '(program)', '(garbage collector)', '(root)']);
const KIND_LABEL = { js: 'JavaScript', gc: 'garbage collection', program: '(program)', idle: 'idle' } as const;

export function defaultLabel(frame: CpuProfileNode['callFrame']): string {
  const file = frame.url.replace(/^.*\/(src|node_modules|assets)\//, '$1/').replace(/\?.*$/, '');
  return `${frame.functionName || '(anonymous)'} ${file}:${frame.lineNumber + 1}`;
}

/**
 * Splits the profile into stretches of non-idle samples separated by at least `gapMs` of idle, keeps those longer
 * than `minMs`, and sums self time by kind over the whole profile.
 */
export function busyStretches(profile: CpuProfile, minMs: number, label: FrameLabeller = defaultLabel, gapMs = 1): { stretches: Stretch[]; selfByOrigin: Map<string, number>; totalMs: number } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const labels = new Map<number, string>();
  const labelOf = (n: CpuProfileNode) => {
    let l = labels.get(n.id);
    if (l === undefined) labels.set(n.id, (l = SPECIAL.has(n.callFrame.functionName) ? n.callFrame.functionName : label(n.callFrame)));
    return l;
  };
  const ownFrameOf = (id: number): string => {
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const l = labelOf(byId.get(cur)!);
      if (/ src\//.test(l)) return l;
    }
    return '(no src/ frame)';
  };
  const selfByOrigin = new Map<string, number>();
  const stretches: Stretch[] = [];
  let t = 0;
  let current: { start: number; end: number; self: Map<string, number>; own: Map<string, number>; js: number; gc: number } | null = null;
  let idleSince: number | null = null;
  const close = () => {
    if (current && current.end - current.start > minMs) {
      const top = [...current.self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 4);
      const topOwn = [...current.own.entries()].sort((a, b) => b[1] - a[1]).slice(0, 4);
      stretches.push({ startMs: current.start, durationMs: current.end - current.start, fedtabMs: current.js, gcMs: current.gc, top, topOwn });
    }
    current = null;
  };
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = (profile.timeDeltas[i] ?? 0) / 1000;
    const sampleStart = t;
    t += dt;
    // A sample stands for the interval up to the next one.
    const next = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    const node = byId.get(profile.samples[i]);
    if (!node) continue;
    const name = node.callFrame.functionName;
    const kind: keyof typeof KIND_LABEL = name === '(idle)' ? 'idle' : name === '(garbage collector)' ? 'gc' : name === '(program)' || name === '(root)' ? 'program' : 'js';
    selfByOrigin.set(KIND_LABEL[kind], (selfByOrigin.get(KIND_LABEL[kind]) ?? 0) + next);
    if (kind === 'idle') {
      idleSince ??= sampleStart;
      if (current && t - idleSince >= gapMs) close();
      continue;
    }
    idleSince = null;
    current ??= { start: sampleStart, end: sampleStart, self: new Map(), own: new Map(), js: 0, gc: 0 };
    current.end = sampleStart + next;
    if (kind === 'js') current.js += next;
    if (kind === 'gc') current.gc += next;
    const key = labelOf(node);
    current.self.set(key, (current.self.get(key) ?? 0) + next);
    if (kind === 'js') {
      const own = ownFrameOf(node.id);
      current.own.set(own, (current.own.get(own) ?? 0) + next);
    }
  }
  close();
  return { stretches, selfByOrigin, totalMs: t };
}
