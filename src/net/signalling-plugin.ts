/**
 * Vite plugin: the PeerJS signalling server and the URL list endpoint, served by Vite itself
 * in dev (`vite`) and preview (`vite preview`), so app and signalling share one port.
 */
import type { Plugin } from 'vite';
import { attachSignalling, type AppHttpServer, type ConnectMiddleware } from './signalling-server';
import { serverUrlsMiddleware } from './server-urls';
import { securityHeadersMiddleware, type HeaderMode } from './security-headers';

interface MiddlewareStack {
  use(middleware: ConnectMiddleware): unknown;
}

function install(httpServer: AppHttpServer | null, middlewares: MiddlewareStack, basePath: string, warn: (m: string) => void, mode: HeaderMode) {
  // First, so every response (Vite's too) carries them.
  middlewares.use(securityHeadersMiddleware(mode));
  if (!httpServer) {
    warn('fedtab signalling: no HTTP server (middleware mode); peers cannot connect through this server');
    return;
  }
  // The dev server's HMR socket shares the port; the preview server takes no other upgrades.
  const signalling = attachSignalling(httpServer, { log: warn, otherUpgrades: mode === 'dev' ? 'leave' : 'refuse' });
  httpServer.on('close', () => signalling.close());
  middlewares.use(signalling.middleware);
  middlewares.use(serverUrlsMiddleware(httpServer, basePath));
}

export function fedtabSignalling(): Plugin {
  return {
    name: 'fedtab:signalling',
    configureServer(server) {
      install(server.httpServer, server.middlewares, server.config.base, (m) => server.config.logger.warn(m), 'dev');
    },
    configurePreviewServer(server) {
      install(server.httpServer, server.middlewares, server.config.base, (m) => server.config.logger.warn(m), 'production');
    },
  };
}
