/** Tunable constants of in-browser training, in one place. */
export const WORKER_CONFIG = {
  /** Progress events sent to the main thread per second, at most. */
  progressMaxPerSecond: 20,
  /** Backends tried, in order of preference when nothing was measured. */
  candidates: ['webgpu', 'webgl', 'wasm', 'cpu'] as const,
  probe: {
    batchSize: 32,
    /** Untimed batches first: the first steps compile shaders / pack weights. */
    warmupBatches: 1,
    /** Timed batches per backend at most... */
    maxBatches: 8,
    /** ...and timing stops after the batch that crosses this many ms (at least one timed batch always runs). */
    budgetMs: 700,
    /**
     * A backend whose warm-up took longer than this gets a single timed batch, not the whole budget. Shader
     * warm-up on a software WebGPU adapter (SwiftShader) takes several seconds; this keeps the probe bounded.
     */
    slowWarmupMs: 2_500,
    /**
     * 'auto' does not probe WebGPU on a fallback (software, e.g. SwiftShader) adapter: it runs on the CPU like
     * cpu/wasm, after 4-6 s of shader warm-up, and was the slowest backend for every model measured. Forcing
     * 'webgpu' still uses it.
     */
    skipFallbackWebgpu: true,
    /** Learning rate of the probe's SGD steps (the probe model is thrown away). */
    learningRate: 0.01,
  },
  /** How often the main thread polls a TrainHooks.shouldCancel it was given. */
  cancelPollMs: 50,
  /**
   * How often a running call checks whether its backend died. Reads on a lost WebGL context never settle,
   * so the call stops waiting for them and fails over instead.
   */
  lossPollMs: 100,
  /** A backend that cannot add 1 + 1 within this long after an error counts as dead. */
  healthCheckTimeoutMs: 3_000,
} as const;
