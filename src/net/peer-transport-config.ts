/** Settings of the WebRTC transport: where the signalling server is, ICE servers, timings. Browser-safe. */
import { SIGNALLING_ENDPOINT } from './endpoints';
import { parseIceServers } from './ice-config';

/** Where the PeerJS signalling server listens. */
export interface SignallingServerConfig {
  host: string;
  port: number;
  /** Mount path of the PeerJS server (the client appends `peerjs` for its WebSocket). */
  path: string;
  secure: boolean;
  key: string;
}

export interface PeerTimings {
  /** How long to wait for the signalling server to accept this peer. */
  signallingTimeoutMs: number;
  /** How long a new DataConnection (either direction) may take to open. */
  connectTimeoutMs: number;
  /** How often an idle link sends a heartbeat. */
  heartbeatIntervalMs: number;
  /** A peer that sent nothing (data or heartbeat) for this long is dropped as vanished. */
  peerSilenceTimeoutMs: number;
}

export interface PeerTransportConfig {
  signalling: SignallingServerConfig;
  iceServers: RTCIceServer[];
  timings: PeerTimings;
  /** Largest frame a WireCodec may produce: larger DataChannel messages make peerjs drop the channel silently. */
  maxFrameBytes: number;
}

/** What callers may set; everything else gets its default. */
export interface PeerTransportOptions {
  signalling?: Partial<SignallingServerConfig>;
  /** ICE servers, or their text form (see parseIceServers). Default: none. */
  iceServers?: RTCIceServer[] | string;
  timings?: Partial<PeerTimings>;
  maxFrameBytes?: number;
}

/** SCTP message size limit Chromium announces for DataChannels (see stack-notes). */
export const DATA_CHANNEL_MAX_MESSAGE_BYTES = 262_144;

export const DEFAULT_PEER_TIMINGS: Readonly<PeerTimings> = {
  signallingTimeoutMs: 10_000,
  connectTimeoutMs: 15_000,
  heartbeatIntervalMs: 2_000,
  // Generous: a background tab's timers may run only once a second, and a busy main thread delays heartbeats.
  peerSilenceTimeoutMs: 20_000,
};

interface LocationLike {
  protocol: string;
  hostname: string;
  port: string;
}

/** The signalling server of the page's own origin (the app's server serves both). */
export function signallingFromLocation(location: LocationLike): SignallingServerConfig {
  const secure = location.protocol === 'https:';
  return {
    host: location.hostname,
    port: location.port ? Number(location.port) : secure ? 443 : 80,
    path: SIGNALLING_ENDPOINT.path,
    secure,
    key: SIGNALLING_ENDPOINT.key,
  };
}

function defaultSignalling(): Partial<SignallingServerConfig> {
  const location = (globalThis as { location?: LocationLike }).location;
  return location ? signallingFromLocation(location) : { path: SIGNALLING_ENDPOINT.path, key: SIGNALLING_ENDPOINT.key };
}

function requirePositive(name: string, value: number): void {
  if (!Number.isFinite(value) || value <= 0) throw new Error(`PeerTransport config: ${name} must be a positive number, got ${value}`);
}

/** Fills in defaults and checks the result; throws an error naming the first bad setting. */
export function resolvePeerTransportConfig(options: PeerTransportOptions = {}): PeerTransportConfig {
  const signalling = { ...defaultSignalling(), ...options.signalling };
  if (!signalling.host) throw new Error('PeerTransport config: signalling.host is required outside a browser page');
  if (signalling.port === undefined || !Number.isInteger(signalling.port) || signalling.port < 1 || signalling.port > 65535) {
    throw new Error(`PeerTransport config: signalling.port must be an integer in 1-65535, got ${signalling.port}`);
  }
  const timings = { ...DEFAULT_PEER_TIMINGS, ...options.timings };
  for (const [name, value] of Object.entries(timings)) requirePositive(`timings.${name}`, value);
  if (timings.heartbeatIntervalMs >= timings.peerSilenceTimeoutMs) {
    throw new Error(
      `PeerTransport config: timings.heartbeatIntervalMs (${timings.heartbeatIntervalMs}) must be below timings.peerSilenceTimeoutMs (${timings.peerSilenceTimeoutMs})`,
    );
  }
  const maxFrameBytes = options.maxFrameBytes ?? DATA_CHANNEL_MAX_MESSAGE_BYTES;
  if (!Number.isInteger(maxFrameBytes) || maxFrameBytes < 64 || maxFrameBytes > DATA_CHANNEL_MAX_MESSAGE_BYTES) {
    throw new Error(`PeerTransport config: maxFrameBytes must be an integer in 64-${DATA_CHANNEL_MAX_MESSAGE_BYTES}, got ${maxFrameBytes}`);
  }
  const iceServers = typeof options.iceServers === 'string' ? parseIceServers(options.iceServers) : (options.iceServers ?? []);
  return {
    signalling: {
      host: signalling.host,
      port: signalling.port,
      path: signalling.path ?? SIGNALLING_ENDPOINT.path,
      secure: signalling.secure ?? false,
      key: signalling.key ?? SIGNALLING_ENDPOINT.key,
    },
    iceServers,
    timings,
    maxFrameBytes,
  };
}
