import { describe, expect, it } from 'vitest';
import { isBackendPreference, planBackends } from './backend-names';

describe('planBackends', () => {
  it('probes every candidate for auto', () => {
    expect(planBackends('auto')).toEqual({ mode: 'probe', order: ['webgpu', 'webgl', 'wasm', 'cpu'] });
  });

  it('tries a forced backend first, then the ones after it, then the ones before it', () => {
    expect(planBackends('wasm')).toEqual({ mode: 'forced', order: ['wasm', 'cpu', 'webgpu', 'webgl'] });
    expect(planBackends('webgpu').order).toEqual(['webgpu', 'webgl', 'wasm', 'cpu']);
  });

  it('probes instead of failing for an unknown name, and says so', () => {
    const plan = planBackends('tpu');
    expect(plan.mode).toBe('probe');
    expect(plan.notice).toBe("unknown backend 'tpu' (choose auto, webgpu, webgl, wasm, cpu); choosing automatically");
  });

  it('guards preferences', () => {
    expect(['auto', 'webgpu', 'cpu'].every(isBackendPreference)).toBe(true);
    expect([null, 'WebGL', 3].some(isBackendPreference)).toBe(false);
  });
});
