/**
 * Node only: which PeerJS ids hold an open signalling socket right now, and with which secret token. The token is
 * the one the tab chose for its socket (sent only to this server), so (id, token) proves "I am that live tab".
 * It watches the server's WebSocket upgrades for the signalling path; a socket counts until it closes (a refused
 * upgrade or an id someone else holds closes it at once).
 */
import type { Duplex } from 'node:stream';
import type http from 'node:http';
import type { AppHttpServer } from './signalling-server';
import { SIGNALLING_ENDPOINT } from './endpoints';

export interface SignallingPresence {
  /** Whether a socket with this id and token is open. */
  isLive(id: string, token: string): boolean;
  /** Whether any socket holds this id. */
  isRegistered(id: string): boolean;
  close(): void;
}

export const SIGNALLING_SOCKET_PATH = `${SIGNALLING_ENDPOINT.path}/peerjs`;

export function trackSignallingPresence(httpServer: AppHttpServer): SignallingPresence {
  const sockets = new Map<string, Map<Duplex, string>>();
  const onUpgrade = (req: http.IncomingMessage, socket: Duplex) => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://placeholder');
    } catch {
      return;
    }
    const id = url.searchParams.get('id');
    const token = url.searchParams.get('token');
    if (url.pathname !== SIGNALLING_SOCKET_PATH || !id || !token || socket.destroyed) return;
    let holders = sockets.get(id);
    if (!holders) sockets.set(id, (holders = new Map()));
    holders.set(socket, token);
    const held = holders;
    socket.once('close', () => {
      held.delete(socket);
      if (held.size === 0 && sockets.get(id) === held) sockets.delete(id);
    });
  };
  httpServer.on('upgrade', onUpgrade);
  return {
    isLive: (id, token) => [...(sockets.get(id)?.values() ?? [])].includes(token),
    isRegistered: (id) => sockets.has(id),
    close: () => void httpServer.off('upgrade', onUpgrade),
  };
}
