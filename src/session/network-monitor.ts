/**
 * Polls the transport's network report (direct or relayed route and RTT per peer, attempts that never opened and
 * why, the relay) for the dashboard, and passes it on when it changed.
 */
import type { NetworkReport } from '../net/connection-watch';

export interface NetworkSource {
  networkReport?(): Promise<NetworkReport>;
}

export const NETWORK_POLL_MS = 2_000;

/** Starts polling `source`; returns the stop function. Nothing happens for a transport without a report. */
export function watchNetwork(source: NetworkSource, onReport: (report: NetworkReport) => void, everyMs = NETWORK_POLL_MS): () => void {
  if (!source.networkReport) return () => undefined;
  const read = source.networkReport.bind(source);
  let last = '';
  let stopped = false;
  let busy = false;
  const poll = async () => {
    if (busy) return;
    busy = true;
    try {
      const report = await read();
      const text = JSON.stringify(report);
      if (!stopped && text !== last) {
        last = text;
        onReport(report);
      }
    } catch {
      // A transport closing under the poll: the next one (or stop) settles it.
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void poll(), everyMs);
  void poll();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}

/** A failed join's error, with why the connection to `target` never opened when the transport knows. */
export function withNetworkReason(error: unknown, transport: { whyUnconnected?(peerId: string): string | undefined } | null, target: string): unknown {
  const why = transport?.whyUnconnected?.(target);
  if (!why || !(error instanceof Error) || error.message.includes(why)) return error;
  return new Error(`${error.message} (${why})`);
}
