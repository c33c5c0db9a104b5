/** Node only: which URLs reach a listening server, for the console and for SERVER_URLS_ENDPOINT. */
import os from 'node:os';
import tls from 'node:tls';
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SERVER_URLS_ENDPOINT, type ServerUrls } from './endpoints';

export type UrlProtocol = 'http' | 'https';

const WILDCARD_ADDRESSES = new Set(['0.0.0.0', '::', '::0', '0:0:0:0:0:0:0:0']);

function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address === '::1' || address === 'localhost' || address === '::ffff:127.0.0.1';
}

function formatUrl(protocol: UrlProtocol, host: string, port: number, basePath: string): string {
  const hostPart = host.includes(':') ? `[${host}]` : host;
  const path = basePath.startsWith('/') ? basePath : `/${basePath}`;
  return `${protocol}://${hostPart}:${port}${path}`;
}

/** IPv4 addresses of the machine's non-internal interfaces: the ones other devices on the LAN can reach. */
export function lanAddresses(interfaces: NodeJS.Dict<os.NetworkInterfaceInfo[]> = os.networkInterfaces()): string[] {
  const found: string[] = [];
  for (const entries of Object.values(interfaces)) {
    for (const entry of entries ?? []) {
      if (entry.family === 'IPv4' && !entry.internal && !found.includes(entry.address)) found.push(entry.address);
    }
  }
  return found;
}

/**
 * The URLs under which a server bound to `address` is reachable.
 * A wildcard bind (0.0.0.0 / ::) is reachable on every LAN address; a loopback bind only locally.
 */
export function listServerUrls(
  address: AddressInfo | string | null,
  protocol: UrlProtocol,
  basePath = '/',
  interfaces: NodeJS.Dict<os.NetworkInterfaceInfo[]> = os.networkInterfaces(),
): ServerUrls {
  if (address === null || typeof address === 'string') return { urls: [], local: [] };
  const { address: host, port } = address;
  if (WILDCARD_ADDRESSES.has(host)) {
    return {
      urls: lanAddresses(interfaces).map((ip) => formatUrl(protocol, ip, port, basePath)),
      local: [formatUrl(protocol, 'localhost', port, basePath)],
    };
  }
  if (isLoopback(host)) return { urls: [], local: [formatUrl(protocol, host, port, basePath)] };
  return { urls: [formatUrl(protocol, host, port, basePath)], local: [] };
}

/** Whether a Node server speaks TLS (https and http2 secure servers both extend tls.Server). */
export function protocolOf(server: object): UrlProtocol {
  return server instanceof tls.Server ? 'https' : 'http';
}

interface ListeningServer {
  address(): AddressInfo | string | null;
}

/** Middleware answering GET SERVER_URLS_ENDPOINT with the server's current {@link ServerUrls} as JSON. */
export function serverUrlsMiddleware(server: ListeningServer, basePath = '/') {
  return (req: http.IncomingMessage, res: http.ServerResponse, next: (error?: unknown) => void): void => {
    if (new URL(req.url ?? '/', 'http://placeholder').pathname !== SERVER_URLS_ENDPOINT) return next();
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.statusCode = 405;
      res.setHeader('Allow', 'GET, HEAD');
      res.end();
      return;
    }
    const body = JSON.stringify(listServerUrls(server.address(), protocolOf(server), basePath));
    res.statusCode = 200;
    res.setHeader('Content-Type', 'application/json');
    res.setHeader('Cache-Control', 'no-store');
    res.end(req.method === 'HEAD' ? undefined : body);
  };
}
