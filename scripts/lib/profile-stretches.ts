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

type Kind = keyof typeof KIND_LABEL;

interface Sample {
  /** Milliseconds since the profile started. */
  startMs: number;
  /** The interval it stands for (up to the next sample). */
  ms: number;
  node: CpuProfileNode;
  kind: Kind;
}

/** The profile's samples in order, each with the interval it stands for and its kind. */
function samplesOf(profile: CpuProfile): Sample[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const out: Sample[] = [];
  let t = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    t += (profile.timeDeltas[i] ?? 0) / 1000;
    const node = byId.get(profile.samples[i]);
    if (!node) continue;
    const name = node.callFrame.functionName;
    const kind: Kind = name === '(idle)' ? 'idle' : name === '(garbage collector)' ? 'gc' : name === '(program)' || name === '(root)' ? 'program' : 'js';
    out.push({ startMs: t, ms: (profile.timeDeltas[i + 1] ?? 0) / 1000, node, kind });
  }
  return out;
}

/** Labels frames once, and finds the innermost project (src/) frame on a sample's stack. */
function frameNamer(profile: CpuProfile, label: FrameLabeller) {
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
  const onStack = (id: number, functionName: string): boolean => {
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) if (byId.get(cur)!.callFrame.functionName === functionName) return true;
    return false;
  };
  return { labelOf, ownFrameOf, onStack };
}

/**
 * Where a page's performance.now() is on the profile's clock: the start (ms since the profile started) of the first
 * sample under a function named `marker` that the page ran at page time `markerPageMs`. Null if no sample hit it.
 */
export function profileOffsetMs(profile: CpuProfile, marker: string, markerPageMs: number): number | null {
  const names = frameNamer(profile, defaultLabel);
  const first = samplesOf(profile).find((s) => names.onStack(s.node.id, marker));
  return first ? first.startMs - markerPageMs : null;
}

export interface WindowBreakdown {
  jsMs: number;
  gcMs: number;
  programMs: number;
  idleMs: number;
  top: [string, number][];
  topOwn: [string, number][];
}

/** Self time by kind and the top functions in [fromMs, toMs) of the profile's clock (a long task's window). */
export function windowBreakdown(profile: CpuProfile, fromMs: number, toMs: number, label: FrameLabeller = defaultLabel): WindowBreakdown {
  const names = frameNamer(profile, label);
  const self = new Map<string, number>();
  const own = new Map<string, number>();
  const b = { jsMs: 0, gcMs: 0, programMs: 0, idleMs: 0 };
  for (const s of samplesOf(profile)) {
    if (s.startMs < fromMs || s.startMs >= toMs) continue;
    if (s.kind === 'idle') b.idleMs += s.ms;
    else if (s.kind === 'gc') b.gcMs += s.ms;
    else if (s.kind === 'program') b.programMs += s.ms;
    else {
      b.jsMs += s.ms;
      const o = names.ownFrameOf(s.node.id);
      own.set(o, (own.get(o) ?? 0) + s.ms);
    }
    if (s.kind !== 'idle') {
      const key = names.labelOf(s.node);
      self.set(key, (self.get(key) ?? 0) + s.ms);
    }
  }
  const top = (m: Map<string, number>) => [...m.entries()].sort((x, y) => y[1] - x[1]).slice(0, 4);
  return { ...b, top: top(self), topOwn: top(own) };
}

/**
 * Splits the profile into stretches of non-idle samples separated by at least `gapMs` of idle, keeps those longer
 * than `minMs`, and sums self time by kind over the whole profile.
 */
export function busyStretches(profile: CpuProfile, minMs: number, label: FrameLabeller = defaultLabel, gapMs = 1): { stretches: Stretch[]; selfByOrigin: Map<string, number>; totalMs: number } {
  const { labelOf, ownFrameOf } = frameNamer(profile, label);
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
  for (const { startMs: sampleStart, ms: next, node, kind } of samplesOf(profile)) {
    t = sampleStart + next;
    selfByOrigin.set(KIND_LABEL[kind], (selfByOrigin.get(KIND_LABEL[kind]) ?? 0) + next);
    if (kind === 'idle') {
      idleSince ??= sampleStart;
      if (current && sampleStart - idleSince >= gapMs) close();
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
