/**
 * Browser: the relay the app's server offers, fetched for this tab (ICE_CONFIG_ENDPOINT) and kept fresh. The tab's
 * RTCConfiguration (which peerjs reads for each new connection) gets the user's own ICE servers plus the app's
 * STUN/TURN servers with credentials minted for this tab; new credentials are fetched before they expire.
 * Host candidates stay in the list, so ICE still prefers a direct path whenever one works.
 */
import { ICE_CONFIG_ENDPOINT, isIceConfigResponse, type IceConfigRequest, type IceConfigResponse } from './endpoints';

/** What this tab knows about the relay: offered (with its URLs), none offered, or unreachable to ask. */
export type RelayStatus = { kind: 'offered'; urls: string[] } | { kind: 'none' } | { kind: 'unavailable'; reason: string };

export interface RelayTiming {
  /** Give up the first fetch after this long (the tab then starts without the relay and keeps trying). */
  fetchTimeoutMs: number;
  /** Fetch again when this share of the credentials' lifetime is left. */
  refreshShareLeft: number;
  retryMs: number;
}

export const RELAY_TIMING: Readonly<RelayTiming> = { fetchTimeoutMs: 5_000, refreshShareLeft: 0.25, retryMs: 30_000 };

export type FetchLike = (url: string, init: { method: string; headers: Record<string, string>; body: string; signal?: AbortSignal }) => Promise<{ ok: boolean; status: number; json(): Promise<unknown> }>;

export async function fetchIceConfig(request: IceConfigRequest, fetchFn: FetchLike, timeoutMs: number, origin = ''): Promise<IceConfigResponse> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const response = await fetchFn(`${origin}${ICE_CONFIG_ENDPOINT}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(request),
      signal: controller.signal,
    }).catch((error: unknown) => {
      throw new Error(controller.signal.aborted ? `${ICE_CONFIG_ENDPOINT} did not answer within ${timeoutMs} ms` : `${ICE_CONFIG_ENDPOINT}: ${(error as Error).message}`);
    });
    const body = await response.json().catch(() => null);
    if (!response.ok) {
      const why = body && typeof body === 'object' && typeof (body as { error?: unknown }).error === 'string' ? (body as { error: string }).error : `HTTP ${response.status}`;
      throw new Error(`${ICE_CONFIG_ENDPOINT}: ${why}`);
    }
    if (!isIceConfigResponse(body)) throw new Error(`${ICE_CONFIG_ENDPOINT} returned an unexpected body`);
    return body;
  } finally {
    clearTimeout(timer);
  }
}

/** The part of a peerjs Peer this needs: its id, the token of its signalling socket, its RTCConfiguration. */
export interface RelayPeer {
  readonly id: string;
  readonly options: { token?: string; config?: RTCConfiguration };
  on(event: 'close', listener: () => void): unknown;
}

export interface RelayKeeper {
  status(): RelayStatus;
  stop(): void;
}

/**
 * Fetches the relay for `peer` as a tab of `session` and keeps `peer.options.config.iceServers` = own + relay.
 * Resolves after the first answer (or failure, or timeout); later fetches run before the credentials expire.
 */
export async function keepRelayServers(
  peer: RelayPeer,
  session: string,
  ownServers: readonly RTCIceServer[],
  fetchFn: FetchLike,
  timing: RelayTiming = RELAY_TIMING,
  now: () => number = Date.now,
): Promise<RelayKeeper> {
  let status: RelayStatus = { kind: 'unavailable', reason: 'not asked yet' };
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const config = (peer.options.config ??= {});
  const refresh = async (): Promise<void> => {
    const token = peer.options.token;
    try {
      if (!token) throw new Error('this tab has no signalling token');
      const answer = await fetchIceConfig({ peer: peer.id, token, session }, fetchFn, timing.fetchTimeoutMs);
      if (stopped) return;
      config.iceServers = [...ownServers, ...answer.iceServers];
      const urls = answer.iceServers.flatMap((s) => s.urls);
      status = urls.length ? { kind: 'offered', urls } : { kind: 'none' };
      if (answer.expiresAt !== null) {
        const left = answer.expiresAt - now();
        timer = setTimeout(() => void refresh(), Math.max(timing.retryMs, left * (1 - timing.refreshShareLeft)));
      }
    } catch (error) {
      if (stopped) return;
      // Keep the last good servers: their allocations outlive the credentials.
      if (status.kind !== 'offered') status = { kind: 'unavailable', reason: (error as Error).message };
      timer = setTimeout(() => void refresh(), timing.retryMs);
    }
  };
  const stop = () => {
    stopped = true;
    clearTimeout(timer);
  };
  peer.on('close', stop);
  await refresh();
  return { status: () => status, stop };
}
