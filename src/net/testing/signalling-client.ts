/**
 * A raw PeerJS signalling client for tests and benchmarks of the signalling server: registers an id over a real
 * WebSocket and says what the server answered first.
 */
import WebSocket from 'ws';
import { SIGNALLING_ENDPOINT } from '../endpoints';

export type SignallingOutcome = { kind: 'open' } | { kind: 'id-taken' } | { kind: 'error'; msg: string } | { kind: 'refused'; status: number } | { kind: 'failed'; msg: string };

export function signallingUrl(port: number, id: string, token = `t-${id}`): string {
  return `ws://127.0.0.1:${port}${SIGNALLING_ENDPOINT.path}/peerjs?key=${SIGNALLING_ENDPOINT.key}&id=${id}&token=${token}`;
}

export interface Registration {
  outcome: SignallingOutcome;
  ws: WebSocket;
  /** From the upgrade request to the first answer. */
  ms: number;
  /** Every message after the first answer, as it arrives. */
  messages: Array<Record<string, unknown>>;
}

/**
 * Registers `id` on the server at `port` from `localAddress` (a loopback address); resolves with the first answer
 * (or 'failed' after 5 s). The socket is pushed to `sockets` (the caller closes them) and kept open when accepted.
 */
export function registerSignalling(
  port: number,
  id: string,
  localAddress: string,
  sockets: WebSocket[],
  options: { token?: string; headers?: Record<string, string> } = {},
): Promise<Registration> {
  const started = performance.now();
  const ws = new WebSocket(signallingUrl(port, id, options.token), { localAddress, headers: options.headers ?? {} });
  sockets.push(ws);
  const messages: Array<Record<string, unknown>> = [];
  return new Promise((resolve) => {
    let answered = false;
    const done = (outcome: SignallingOutcome) => {
      if (answered) return;
      answered = true;
      clearTimeout(timer);
      resolve({ outcome, ws, ms: performance.now() - started, messages });
    };
    const timer = setTimeout(() => done({ kind: 'failed', msg: 'no answer in 5 s' }), 5000);
    ws.on('message', (data) => {
      const m = JSON.parse(String(data)) as { type: string; payload?: { msg?: string } };
      if (answered) return void messages.push(m);
      done(m.type === 'OPEN' ? { kind: 'open' } : m.type === 'ID-TAKEN' ? { kind: 'id-taken' } : { kind: 'error', msg: m.payload?.msg ?? m.type });
    });
    ws.once('unexpected-response', (_req, res) => {
      res.resume();
      done({ kind: 'refused', status: res.statusCode ?? 0 });
    });
    ws.once('error', (e) => done({ kind: 'failed', msg: e.message }));
  });
}
