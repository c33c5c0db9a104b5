/** Settings of the WebRTC transport: where the signalling server is, ICE servers, timings. Browser-safe. */
import { ADMISSION_LIMITS, WIRE_LIMITS } from '../fl/codec/limits';
import { SIGNALLING_ENDPOINT } from './endpoints';
import { DEFAULT_PACING, type PacedSenderOptions } from './paced-sender';
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

/**
 * What a connection may do before the session admits its peer (after the peer proved it knows the join secret),
 * and the bounds on such connections. Which message types it may carry is the routing table's (src/fl/routing.ts).
 * A connection that breaks a rule is closed and counted, never logged per message.
 */
export interface AdmissionConfig {
  /** Largest DataChannel message an unadmitted peer may send; it must hold one whole message. */
  maxPreAdmissionBytes: number;
  /** Incoming connections from unadmitted peers held at once; more are closed at once. */
  maxPendingConnections: number;
  /** New incoming connections from unadmitted peers accepted per second (bursts of as many). */
  maxNewConnectionsPerSecond: number;
  /** A connection whose peer is not admitted within this time is closed. */
  admissionTimeoutMs: number;
  /** Connections one peer may hold at once (two when both sides connect simultaneously). */
  maxLinksPerPeer: number;
  /** Largest message from an admitted peer until the session calls setMessageLimit. */
  messageLimitBytes: number;
  /**
   * An admitted peer's connection is closed (and reported, naming the peer) once this many of its messages were
   * refused (oversized, undecodable or invalid) within refusedMessagesWindowMs: a legitimate peer sends none.
   */
  maxRefusedMessages: number;
  refusedMessagesWindowMs: number;
  /** Rejections of one kind are reported through onError at most once per this interval. */
  rejectionReportIntervalMs: number;
}

export const DEFAULT_ADMISSION: Readonly<AdmissionConfig> = Object.freeze({
  maxPreAdmissionBytes: WIRE_LIMITS.maxPreAdmissionBytes,
  ...ADMISSION_LIMITS,
  messageLimitBytes: WIRE_LIMITS.defaultPeerMessageBytes,
  maxRefusedMessages: 3,
  refusedMessagesWindowMs: 10_000,
  rejectionReportIntervalMs: 10_000,
});

export interface PeerTransportConfig {
  signalling: SignallingServerConfig;
  iceServers: RTCIceServer[];
  timings: PeerTimings;
  admission: AdmissionConfig;
  /** Largest frame a WireCodec may produce: larger DataChannel messages make peerjs drop the channel silently. */
  maxFrameBytes: number;
  /** How sends are spread over tasks, and how much may wait per peer (see paced-sender.ts). */
  pacing: PacedSenderOptions;
}

/** What callers may set; everything else gets its default. */
export interface PeerTransportOptions {
  signalling?: Partial<SignallingServerConfig>;
  /** ICE servers, or their text form (see parseIceServers). Default: none. */
  iceServers?: RTCIceServer[] | string;
  timings?: Partial<PeerTimings>;
  admission?: Partial<AdmissionConfig>;
  maxFrameBytes?: number;
  pacing?: Partial<PacedSenderOptions>;
}

/** SCTP message size limit Chromium announces for DataChannels (a larger message closes the channel). */
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

function requireInteger(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`PeerTransport config: ${name} must be an integer in ${min}-${max}, got ${value}`);
  }
}

function resolveAdmission(options: Partial<AdmissionConfig> = {}, maxFrameBytes: number): AdmissionConfig {
  const a = { ...DEFAULT_ADMISSION, ...options };
  requireInteger('admission.maxPreAdmissionBytes', a.maxPreAdmissionBytes, 64, maxFrameBytes);
  requireInteger('admission.maxPendingConnections', a.maxPendingConnections, 1, 10_000);
  requireInteger('admission.maxLinksPerPeer', a.maxLinksPerPeer, 1, 16);
  requireInteger('admission.messageLimitBytes', a.messageLimitBytes, 1, WIRE_LIMITS.maxMessageBytes);
  requirePositive('admission.maxNewConnectionsPerSecond', a.maxNewConnectionsPerSecond);
  requirePositive('admission.admissionTimeoutMs', a.admissionTimeoutMs);
  requirePositive('admission.rejectionReportIntervalMs', a.rejectionReportIntervalMs);
  requireInteger('admission.maxRefusedMessages', a.maxRefusedMessages, 1, 1_000);
  requirePositive('admission.refusedMessagesWindowMs', a.refusedMessagesWindowMs);
  return a;
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
  const admission = resolveAdmission(options.admission, maxFrameBytes);
  const pacing = { ...DEFAULT_PACING, ...options.pacing };
  requirePositive('pacing.bytesPerTask', pacing.bytesPerTask);
  requirePositive('pacing.maxQueuedBytesPerPeer', pacing.maxQueuedBytesPerPeer);
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
    admission,
    maxFrameBytes,
    pacing,
  };
}
