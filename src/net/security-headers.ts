/**
 * Security headers for every response of the app's servers (Vite dev and preview through the plugin,
 * server/serve.ts in production): a Content-Security-Policy, no framing, no referrer, no MIME sniffing.
 */
import type http from 'node:http';

export type HeaderMode = 'production' | 'dev';

/**
 * script-src: the app's own files; 'wasm-unsafe-eval' lets the tfjs wasm backend compile its .wasm. The dev
 * server adds 'unsafe-inline' for the React refresh preamble Vite injects into index.html (dev is loopback only).
 * connect-src: the page's origin (fetches, the signalling WebSocket, Vite's HMR socket). WebRTC is not governed by CSP.
 */
export function contentSecurityPolicy(mode: HeaderMode): string {
  const script = mode === 'dev' ? "'self' 'unsafe-inline' 'wasm-unsafe-eval'" : "'self' 'wasm-unsafe-eval'";
  return [
    "default-src 'self'",
    `script-src ${script}`,
    "worker-src 'self' blob:",
    "connect-src 'self'",
    "img-src 'self' data: blob:",
    "style-src 'self' 'unsafe-inline'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

export function securityHeaders(mode: HeaderMode): Record<string, string> {
  return {
    'Content-Security-Policy': contentSecurityPolicy(mode),
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
    'X-Content-Type-Options': 'nosniff',
    'Cross-Origin-Resource-Policy': 'same-origin',
  };
}

/** Connect/express middleware that sets the headers on every response and passes the request on. */
export function securityHeadersMiddleware(mode: HeaderMode) {
  const headers = Object.entries(securityHeaders(mode));
  return (_req: http.IncomingMessage, res: http.ServerResponse, next: (error?: unknown) => void): void => {
    for (const [name, value] of headers) res.setHeader(name, value);
    next();
  };
}
