/**
 * Vite plugin: the relay beside the dev and preview servers (see relay-mount.ts), so development and the browser
 * tests get ICE configuration from the app exactly as production does. The embedded TURN relay takes a free port
 * here (FEDTAB_RELAY_PORT picks one; FEDTAB_RELAY=off serves no relay; FEDTAB_RELAY=external offers the relay at
 * FEDTAB_RELAY_URLS, comma-separated, sharing FEDTAB_RELAY_SECRET, as bench:relay does with server/relay-cli.ts).
 */
import type { Plugin } from 'vite';
import { mountRelay } from './relay-mount';
import type { RelaySetting } from './relay-offer';

function relaySetting(env: NodeJS.ProcessEnv): RelaySetting {
  if (env.FEDTAB_RELAY === 'off') return { kind: 'none' };
  if (env.FEDTAB_RELAY === 'external') {
    const urls = (env.FEDTAB_RELAY_URLS ?? '').split(',').filter(Boolean);
    if (!env.FEDTAB_RELAY_SECRET || urls.length === 0) throw new Error('FEDTAB_RELAY=external needs FEDTAB_RELAY_SECRET and FEDTAB_RELAY_URLS');
    return { kind: 'external', secret: env.FEDTAB_RELAY_SECRET, urls };
  }
  const port = Number(env.FEDTAB_RELAY_PORT ?? 0);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`FEDTAB_RELAY_PORT: "${env.FEDTAB_RELAY_PORT}" is not a port number`);
  return { kind: 'embedded', port };
}

export function fedtabRelay(): Plugin {
  const install = async (server: { httpServer: Parameters<typeof mountRelay>[0] | null; middlewares: { use(m: unknown): unknown }; config: { logger: { warn(m: string): void; info(m: string): void } } }) => {
    if (!server.httpServer) return;
    const relay = await mountRelay(server.httpServer, relaySetting(process.env), { log: (m) => server.config.logger.warn(m) });
    server.httpServer.on('close', () => void relay.close());
    server.middlewares.use(relay.middleware);
  };
  return {
    name: 'fedtab:relay',
    configureServer: (server) => install(server),
    configurePreviewServer: (server) => install(server),
  };
}
