/**
 * Node only: puts the relay beside the app and its signalling server: the embedded TURN relay (or a separate TURN
 * server's URLs and secret) and the ICE config endpoint that hands tabs their credentials.
 * Used by server/serve.ts (production) and the Vite plugin (dev, preview, browser tests).
 */
import type http from 'node:http';
import type { AppHttpServer } from './signalling-server';
import { trackSignallingPresence } from './signalling-presence';
import { iceConfigMiddleware } from './ice-endpoint';
import { embeddedRelayOffer, fixedRelayOffer, type RelayOffer, type RelaySetting } from './relay-offer';
import { startTurnServer, type TurnLimits, type TurnServer } from './turn/turn-server';
import { newTurnSecret } from './turn/turn-credentials';

export interface RelayMount {
  middleware: (req: http.IncomingMessage, res: http.ServerResponse, next: (error?: unknown) => void) => void;
  /** The embedded relay when it runs. */
  turn: TurnServer | null;
  /** One line for the console: what tabs are offered. */
  summary: string;
  close(): Promise<void>;
}

export async function mountRelay(
  httpServer: AppHttpServer,
  setting: RelaySetting,
  options: { log?: (line: string) => void; limits?: Partial<TurnLimits> } = {},
): Promise<RelayMount> {
  const log = options.log ?? ((line: string) => console.warn(line));
  const presence = trackSignallingPresence(httpServer);
  let turn: TurnServer | null = null;
  let offer: RelayOffer | null = null;
  let summary = 'no relay (LAN only): tabs that cannot reach each other directly do not connect';
  if (setting.kind === 'embedded') {
    const secret = newTurnSecret(); // lives in this process only; tabs get credentials signed with it
    try {
      turn = await startTurnServer({ secret, port: setting.port, limits: options.limits, log });
      offer = embeddedRelayOffer(secret, turn.port);
      summary = `TURN relay on UDP and TCP port ${turn.port} (addresses ${turn.addresses.join(', ')})`;
    } catch (error) {
      summary = `no relay: ${(error as Error).message}; tabs that cannot reach each other directly do not connect (choose another port with --relay-port)`;
      log(`fedtab relay: ${summary}`);
    }
  } else if (setting.kind === 'external') {
    offer = fixedRelayOffer(setting.secret, setting.urls, setting.credentialTtlSeconds);
    summary = `relay: ${setting.urls.join(', ')}`;
  }
  return {
    middleware: iceConfigMiddleware(offer, presence),
    turn,
    summary,
    close: async () => {
      presence.close();
      await turn?.close();
    },
  };
}
