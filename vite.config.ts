import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import basicSsl from '@vitejs/plugin-basic-ssl';
import { fedtabSignalling } from './src/net/signalling-plugin';
import { fedtabRelay } from './src/net/relay-plugin';

/**
 * The dev server (`npm run dev`) listens on loopback only: it serves the project's sources (that is how Vite
 * dev works), so it must not be reachable from the network. LAN sessions use the production build
 * (`npm start`, `npm run start:https`: server/serve.ts, dist/ only). `FEDTAB_HTTPS=1 vite` or `vite --mode https`:
 * self-signed HTTPS, still on loopback.
 */
export default defineConfig(({ mode }) => {
  const https = mode === 'https' || process.env.FEDTAB_HTTPS === '1';
  return {
    plugins: [react(), fedtabSignalling(), fedtabRelay(), ...(https ? [basicSsl({ name: 'fedtab' })] : [])],
    worker: { format: 'es' },
    build: { target: 'es2022' },
    server: { host: '127.0.0.1', fs: { strict: true, deny: ['.env', '.env.*', '*.{crt,pem,key}', '**/.git/**', 'package.json', 'package-lock.json'] } },
    preview: { host: true },
  };
});
