/**
 * Choosing, activating and replacing the TensorFlow.js backend of the training worker.
 * - auto: a short timed probe of the real model on every available candidate; the fastest wins.
 * - forced: the user's choice, or the next available candidate with a notice saying why.
 * - failover: when the active backend dies mid-run, the next one that works takes over.
 * The wasm backend gets the conv-gradient patch, so it trains CNNs too.
 */
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import type { Dataset } from '../fl/data/dataset';
import type { ModelSpec } from '../fl/models';
import { hasConvolutions } from '../fl/models';
import { missingWasmKernels, registerWasmConvGradients } from '../fl/backend/wasm-conv-grad';
import type { AdapterSummary, BackendProbe, BackendReport, BackendSwitch } from './api';
import type { BackendHealth } from './backend-health';
import { watchBackend } from './backend-health';
import type { BackendName } from './backend-names';
import { BACKEND_NAMES, planBackends } from './backend-names';
import { WORKER_CONFIG } from './config';
import { probeTraining } from './probe';

export interface BackendEnvironment {
  /** Where the wasm backend loads its .wasm binaries: a folder URL or a map of binary name to URL. */
  wasmPaths?: string | Record<string, string>;
  candidates?: readonly BackendName[];
}

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

function gpuApi(): GPU | undefined {
  return (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
}

/** Adapter details from WebGPU (null when the browser has no WebGPU or no adapter). */
export async function readAdapterSummary(): Promise<AdapterSummary | null> {
  const gpu = gpuApi();
  if (!gpu) return null;
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' }).catch(() => null);
  if (!adapter) return null;
  const legacy = adapter as GPUAdapter & { isFallbackAdapter?: boolean; requestAdapterInfo?: () => Promise<GPUAdapterInfo> };
  const info: Partial<GPUAdapterInfo> = adapter.info ?? (await legacy.requestAdapterInfo?.()) ?? {};
  return {
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    device: info.device ?? '',
    description: info.description ?? '',
    isFallbackAdapter: Boolean(info.isFallbackAdapter ?? legacy.isFallbackAdapter),
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
    promise.then(
      (v) => (clearTimeout(timer), resolve(v)),
      (e: unknown) => (clearTimeout(timer), reject(e)),
    );
  });
}

export class BackendManager {
  private readonly candidates: readonly BackendName[];
  private readonly dead = new Map<BackendName, string>();
  private health: BackendHealth | null = null;
  private activeName: BackendName | null = null;
  /** Who takes over when the active backend dies, best first. */
  private fallbackOrder: BackendName[] = [];
  private wasmPathsSet = false;
  private adapter: Promise<AdapterSummary | null> | null = null;
  report: BackendReport | null = null;

  constructor(private readonly env: BackendEnvironment = {}) {
    this.candidates = env.candidates ?? BACKEND_NAMES;
  }

  get active(): BackendName | null {
    return this.activeName;
  }

  adapterSummary(): Promise<AdapterSummary | null> {
    this.adapter ??= readAdapterSummary().catch(() => null);
    return this.adapter;
  }

  /** Why the active backend is unusable, or null. */
  lost(): string | null {
    return this.health?.lost() ?? null;
  }

  /** True when the active backend still computes 1 + 1 = 2 (a dead GPU context reads back garbage or throws). */
  async isAlive(): Promise<boolean> {
    if (this.lost() !== null) return false;
    try {
      const t = tf.tidy(() => tf.add(tf.scalar(1), tf.scalar(1)));
      try {
        const v = await withTimeout(t.data(), WORKER_CONFIG.healthCheckTimeoutMs, 'backend health check');
        return v[0] === 2;
      } finally {
        t.dispose();
      }
    } catch {
      return false;
    }
  }

  /** Resolves with the reason once the active backend is lost; `stop()` ends the watch. */
  watchForLoss(): { lost: Promise<string>; stop(): void } {
    let timer: ReturnType<typeof setInterval> | undefined;
    const lost = new Promise<string>((resolve) => {
      timer = setInterval(() => {
        const reason = this.lost();
        if (reason !== null) {
          clearInterval(timer);
          resolve(reason);
        }
      }, WORKER_CONFIG.lossPollMs);
    });
    return { lost, stop: () => clearInterval(timer) };
  }

  simulateLoss(): string {
    if (!this.health) throw new Error('no backend is active yet');
    return this.health.simulateLoss();
  }

  /** Activates `name` for `spec`; returns null on success, else why it cannot be used. Never throws. */
  private async activate(name: BackendName, spec: ModelSpec): Promise<string | null> {
    try {
      return await this.tryActivate(name, spec);
    } catch (err) {
      return `the ${name} backend could not be set up (${errorText(err)})`;
    }
  }

  private async tryActivate(name: BackendName, spec: ModelSpec): Promise<string | null> {
    const deadReason = this.dead.get(name);
    if (deadReason) return `it failed earlier in this session (${deadReason})`;
    if (name === 'webgpu') {
      if (!gpuApi()) {
        // Browsers expose WebGPU only to secure contexts: a LAN page over plain HTTP never has it.
        if (globalThis.isSecureContext === false) return 'WebGPU is hidden because this page is not a secure context (plain HTTP on a LAN address); use the HTTPS mode (npm run dev:https)';
        return 'WebGPU is not available in this browser (no navigator.gpu)';
      }
      if (!(await this.adapterSummary())) return 'WebGPU found no GPU adapter';
    }
    if (name === 'wasm') {
      if (this.env.wasmPaths && !this.wasmPathsSet) {
        setWasmPaths(this.env.wasmPaths);
        this.wasmPathsSet = true;
      }
      registerWasmConvGradients();
      const missing = missingWasmKernels();
      if (hasConvolutions(spec) && missing.length > 0) return `wasm lacks the kernels ${missing.join(', ')} needed to train a CNN`;
    }
    if (tf.findBackendFactory(name) == null) return `the ${name} backend is not registered in this environment`;
    try {
      if (!(await tf.setBackend(name))) return `the ${name} backend failed to initialise`;
      await tf.ready();
    } catch (err) {
      return `the ${name} backend failed to initialise (${errorText(err)})`;
    }
    if (this.activeName !== name || !this.health) {
      this.health?.dispose();
      this.health = watchBackend(name, tf.backend());
      this.activeName = name;
    }
    return null;
  }

  /** Picks and activates the backend for `spec`. `data` feeds the probe (noise of the input shape when null). */
  async select(preference: string, spec: ModelSpec, data: Dataset | null): Promise<BackendReport> {
    const started = performance.now();
    const plan = planBackends(preference, this.candidates);
    const notices = plan.notice ? [plan.notice] : [];
    const probes: BackendProbe[] = [];
    let chosen: BackendName | null = null;
    let reason = '';
    if (plan.mode === 'forced') {
      const forced = plan.order[0];
      for (const name of plan.order) {
        const why = await this.activate(name, spec);
        probes.push(why ? { backend: name, ok: false, error: why } : { backend: name, ok: true });
        if (!why) {
          chosen = name;
          break;
        }
      }
      if (chosen && chosen !== forced) {
        const skipped = probes.filter((p) => !p.ok).map((p) => `${p.backend}: ${p.error}`).join('; ');
        notices.push(`the requested backend '${forced}' is not available (${skipped}); falling back to '${chosen}'`);
      }
      reason = chosen === forced ? `requested '${forced}'` : `fallback for the unavailable '${forced}'`;
      this.fallbackOrder = plan.order.filter((n) => n !== chosen && !this.dead.has(n));
    } else {
      for (const name of plan.order) {
        if (name === 'webgpu' && WORKER_CONFIG.probe.skipFallbackWebgpu && (await this.adapterSummary())?.isFallbackAdapter) {
          probes.push({ backend: name, ok: false, error: 'not probed: the WebGPU adapter is a software fallback (isFallbackAdapter); force webgpu to use it anyway' });
          continue;
        }
        const why = await this.activate(name, spec);
        if (why) {
          probes.push({ backend: name, ok: false, error: why });
          continue;
        }
        try {
          const m = await probeTraining(spec, data, WORKER_CONFIG.probe);
          probes.push({ backend: name, ok: true, samplesPerSecond: m.samplesPerSecond, warmupMs: m.warmupMs, timedBatches: m.timedBatches });
        } catch (err) {
          probes.push({ backend: name, ok: false, error: `training probe failed: ${errorText(err)}` });
          if (!(await this.isAlive())) this.markDead(name, this.lost() ?? `probe failed: ${errorText(err)}`);
        }
      }
      const ranked = probes.filter((p) => p.ok).sort((a, b) => (b.samplesPerSecond ?? 0) - (a.samplesPerSecond ?? 0));
      if (ranked.length > 0) {
        chosen = ranked[0].backend;
        const why = await this.activate(chosen, spec);
        if (why) throw new Error(`the probe chose ${chosen}, but it can no longer be activated: ${why}`);
        const fmt = ranked.map((p) => `${p.backend} ${Math.round(p.samplesPerSecond ?? 0)}`).join(', ');
        reason = `fastest in a ${spec.kind} training probe (samples/s: ${fmt})`;
        this.fallbackOrder = ranked.slice(1).map((p) => p.backend);
      }
    }
    if (!chosen) {
      throw new Error(`no backend can train this ${spec.kind} model here: ${probes.map((p) => `${p.backend}: ${p.error}`).join('; ')}`);
    }
    if (!this.fallbackOrder.includes('cpu') && chosen !== 'cpu') this.fallbackOrder.push('cpu');
    this.report = { backend: chosen, preference, reason, notices, probes, adapter: await this.adapterSummary(), selectionMs: performance.now() - started };
    return this.report;
  }

  private markDead(name: BackendName, reason: string): void {
    this.dead.set(name, reason);
    if (this.activeName === name) {
      this.health?.dispose();
      this.health = null;
      this.activeName = null;
    }
  }

  /** The active backend died: switch to the next one that activates. Throws when none is left. */
  async failover(reason: string, spec: ModelSpec): Promise<BackendSwitch> {
    const from = this.activeName;
    if (!from) throw new Error(`cannot fail over: no backend is active (${reason})`);
    this.markDead(from, reason);
    const tried: string[] = [];
    for (const name of [...this.fallbackOrder]) {
      this.fallbackOrder = this.fallbackOrder.filter((n) => n !== name);
      const why = await this.activate(name, spec);
      if (why) {
        tried.push(`${name}: ${why}`);
        continue;
      }
      if (this.report) this.report = { ...this.report, backend: name, notices: [...this.report.notices, `switched from ${from} to ${name}: ${reason}`] };
      return { from, to: name, reason };
    }
    throw new Error(`the ${from} backend failed (${reason}) and no other backend can take over${tried.length ? ` (${tried.join('; ')})` : ''}`);
  }
}
