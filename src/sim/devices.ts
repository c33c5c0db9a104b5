/**
 * Simulated devices: how fast each client trains and how fast its link is. A client's time for one piece of work is
 * epochs * samples / speed + (download + upload bytes) / bandwidth, in simulated seconds.
 */
import { Rng } from '../fl/rng';

export type DeviceSpec = { kind: 'uniform' } | { kind: 'classroom' } | { kind: 'lognormal'; sigma: number };

export interface DeviceProfile {
  /** Local training speed, samples per second. */
  samplesPerSecond: number;
  /** Link bandwidth, bytes per second (each way). */
  bytesPerSecond: number;
  /** One of the designated slow devices (the share that `classroom` slows down; the slowest draws of `lognormal`). */
  slow: boolean;
}

export const DEVICE_CONFIG = {
  /** A laptop training the simulator's MLP in a browser tab. */
  baseSamplesPerSecond: 1000,
  /** A classroom Wi-Fi share, bytes per second. */
  baseBytesPerSecond: 2_000_000,
  /** Share of clients designated slow (classroom profile, and the devices --intertwined gives particular classes). */
  slowShare: 0.3,
  /** How much slower (compute and link) a slow classroom device is. */
  classroomSlowdown: 5,
} as const;

export function parseDevices(text: string): DeviceSpec {
  if (text === 'uniform' || text === 'classroom') return { kind: text };
  const m = /^lognormal:(.+)$/.exec(text);
  if (m) {
    const sigma = Number(m[1]);
    if (m[1].trim() !== '' && Number.isFinite(sigma) && sigma >= 0) return { kind: 'lognormal', sigma };
  }
  throw new RangeError(`devices must be uniform, classroom or lognormal:SIGMA (SIGMA >= 0), got "${text}"`);
}

export function formatDevices(spec: DeviceSpec): string {
  return spec.kind === 'lognormal' ? `lognormal:${spec.sigma}` : spec.kind;
}

/** The designated slow clients (ascending ids): a seeded choice of round(slowShare * K), at least one when K > 1. */
export function slowClientIds(clients: number, seed: number): number[] {
  const count = clients > 1 ? Math.max(1, Math.round(DEVICE_CONFIG.slowShare * clients)) : 0;
  const ids = new Rng(seed * 104_729 + 17).shuffle(Array.from({ length: clients }, (_, i) => i));
  return ids.slice(0, count).sort((a, b) => a - b);
}

/**
 * One profile per client. `uniform`: every device at the base speed. `classroom`: the designated slow clients are
 * classroomSlowdown times slower in compute and link. `lognormal:SIGMA`: speed and bandwidth are the base times
 * exp(SIGMA * N(0,1)) (one draw per device), the slowest draws going to the designated slow clients.
 */
export function deviceProfiles(spec: DeviceSpec, clients: number, seed: number): DeviceProfile[] {
  const slow = new Set(slowClientIds(clients, seed));
  const base = { samplesPerSecond: DEVICE_CONFIG.baseSamplesPerSecond, bytesPerSecond: DEVICE_CONFIG.baseBytesPerSecond };
  const ids = Array.from({ length: clients }, (_, i) => i);
  switch (spec.kind) {
    case 'uniform':
      return ids.map((k) => ({ ...base, slow: slow.has(k) }));
    case 'classroom': {
      const f = DEVICE_CONFIG.classroomSlowdown;
      return ids.map((k) => (slow.has(k) ? { samplesPerSecond: base.samplesPerSecond / f, bytesPerSecond: base.bytesPerSecond / f, slow: true } : { ...base, slow: false }));
    }
    case 'lognormal': {
      const rng = new Rng(seed * 7_919 + 3);
      const factors = ids.map(() => Math.exp(spec.sigma * rng.normal())).sort((a, b) => a - b);
      const order = [...slow, ...rng.shuffle(ids.filter((k) => !slow.has(k)))];
      const out = new Array<DeviceProfile>(clients);
      order.forEach((k, rank) => {
        out[k] = { samplesPerSecond: base.samplesPerSecond * factors[rank], bytesPerSecond: base.bytesPerSecond * factors[rank], slow: slow.has(k) };
      });
      return out;
    }
  }
}

/** Simulated seconds for one assignment: download the model, train, upload the update. */
export function workSeconds(device: DeviceProfile, samples: number, epochs: number, modelBytes: number): number {
  return (epochs * samples) / device.samplesPerSecond + (2 * modelBytes) / device.bytesPerSecond;
}
