import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import basicSsl from '@vitejs/plugin-basic-ssl';
import { fedtabSignalling } from './src/net/signalling-plugin';

/**
 * `FEDTAB_HTTPS=1 vite` or `vite --mode https`: self-signed HTTPS for LAN sessions (phones and other
 * machines need a secure context for some browser APIs). Listens on all interfaces and prints the LAN URLs.
 */
export default defineConfig(({ mode }) => {
  const https = mode === 'https' || process.env.FEDTAB_HTTPS === '1';
  return {
    plugins: [react(), fedtabSignalling(), ...(https ? [basicSsl({ name: 'fedtab' })] : [])],
    worker: { format: 'es' },
    build: { target: 'es2022' },
    server: { host: true },
    preview: { host: true },
  };
});
