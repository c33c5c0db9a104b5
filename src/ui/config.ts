/** Every tunable constant of the UI, in one place. */
export const UI_CONFIG = {
  /** Controller state changes within this window reach React as one render (see bindController). */
  stateCoalesceMs: 100,
  /** The event log shows at most this many entries (newest first). */
  logLimit: 100,
  storageKeys: {
    projector: 'fedtab.ui.projector',
    displayName: 'fedtab.ui.displayName',
    iceServers: 'fedtab.net.iceServers',
  },
  chart: {
    height: 260,
    projectorHeight: 440,
    /** Projector mode, sized so the decomposition, accuracy and QR fit one 1280x800 screen. */
    projectorDecompositionHeight: 340,
    projectorAccuracyHeight: 185,
    /** A private session's main chart, below the epsilon spent and the secure sum's line. */
    projectorPrivacyHeight: 250,
    /** Charts never get narrower than this, even in a tiny container. */
    minWidth: 240,
  },
  qr: {
    size: 176,
    projectorSize: 140,
  },
  /** How long the copy button says "Copied". */
  copiedFeedbackMs: 2000,
  /** Okabe-Ito palette: distinguishable with the common colour-vision deficiencies, dark enough on white. */
  colors: {
    local: '#0072B2',
    shift: '#D55E00',
    aggregation: '#009E73',
    global: '#1a1a1a',
    accuracy: '#0072B2',
    testLoss: '#CC79A7',
    labelBar: '#0072B2',
    epsilon: '#E69F00',
  },
  backendChoices: ['auto', 'webgpu', 'webgl', 'wasm', 'cpu'] as const,
} as const;
