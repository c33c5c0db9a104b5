/**
 * The app server's configuration file (JSON), for deployments past one machine: `npm run config:deploy` writes it
 * beside coturn's turnserver.conf (see docs/deploy.md); `tsx server/serve.ts --config FILE` reads it.
 *
 *   { "port": 5173, "host": "127.0.0.1",
 *     "relay": { "kind": "external", "secret": "...", "urls": ["turn:turn.example.org:3478?transport=udp", ...] } }
 *
 * relay.kind: "embedded" (the built-in TURN relay, optional "port"), "external" (a TURN server such as coturn
 * sharing `secret` through its use-auth-secret), or "none" (LAN only).
 */
import fs from 'node:fs';
import net from 'node:net';
import type { RelaySetting } from '../src/net/relay-offer';

export type { RelaySetting };

export interface AppConfig {
  port?: number;
  host?: string;
  relay?: RelaySetting;
  /**
   * Reverse proxies in front of the app (their addresses as the app sees them): requests from them count against the
   * address they forward (X-Forwarded-For), so that the per-address limits apply to each tab, not to the proxy.
   */
  trustedProxies?: string[];
}

export const DEFAULT_RELAY_PORT = 3478;

const TURN_URL = /^(stun|stuns|turn|turns):[A-Za-z0-9.[\]:-]+(\?transport=(udp|tcp))?$/;

function fail(file: string, message: string): never {
  throw new Error(`${file}: ${message}`);
}

function port(file: string, field: string, value: unknown): number {
  if (!Number.isInteger(value) || (value as number) < 0 || (value as number) > 65535) fail(file, `${field} must be a port number (0-65535), not ${JSON.stringify(value)}`);
  return value as number;
}

/** Checks a parsed config; throws naming the file and the field that is wrong. */
export function parseAppConfig(value: unknown, file: string): AppConfig {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(file, 'must hold a JSON object');
  const v = value as Record<string, unknown>;
  for (const key of Object.keys(v)) if (!['port', 'host', 'relay', 'trustedProxies'].includes(key)) fail(file, `unknown field "${key}" (expected port, host, relay, trustedProxies)`);
  const config: AppConfig = {};
  if (v.port !== undefined) config.port = port(file, 'port', v.port);
  if (v.host !== undefined) {
    if (typeof v.host !== 'string' || v.host === '') fail(file, 'host must be an address such as 127.0.0.1 or 0.0.0.0');
    config.host = v.host;
  }
  if (v.trustedProxies !== undefined) {
    const t = v.trustedProxies;
    if (!Array.isArray(t) || t.length > 16 || !t.every((a) => typeof a === 'string' && net.isIP(a) !== 0)) fail(file, 'trustedProxies must list the proxies\' IP addresses (at most 16), e.g. ["127.0.0.1", "::1"]');
    config.trustedProxies = t as string[];
  }
  if (v.relay !== undefined) {
    const r = v.relay as Record<string, unknown>;
    if (typeof r !== 'object' || r === null) fail(file, 'relay must be an object with a "kind"');
    if (r.kind === 'none') config.relay = { kind: 'none' };
    else if (r.kind === 'embedded') config.relay = { kind: 'embedded', port: r.port === undefined ? DEFAULT_RELAY_PORT : port(file, 'relay.port', r.port) };
    else if (r.kind === 'external') {
      if (typeof r.secret !== 'string' || r.secret.length < 16) fail(file, 'relay.secret must be the TURN server\'s shared secret (16 characters or more)');
      if (!Array.isArray(r.urls) || r.urls.length === 0 || r.urls.length > 6 || !r.urls.every((u) => typeof u === 'string' && TURN_URL.test(u))) {
        fail(file, 'relay.urls must list 1-6 URLs such as "turn:turn.example.org:3478?transport=udp"');
      }
      const ttl = r.credentialTtlSeconds;
      if (ttl !== undefined && (!Number.isInteger(ttl) || (ttl as number) < 60 || (ttl as number) > 86_400)) fail(file, 'relay.credentialTtlSeconds must be 60-86400');
      config.relay = { kind: 'external', secret: r.secret, urls: r.urls as string[], ...(ttl !== undefined ? { credentialTtlSeconds: ttl as number } : {}) };
    } else fail(file, `relay.kind must be "embedded", "external" or "none", not ${JSON.stringify(r.kind)}`);
  }
  return config;
}

export function readAppConfig(file: string): AppConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    fail(file, `cannot be read (${(error as Error).message})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    fail(file, `is not valid JSON (${(error as Error).message})`);
  }
  return parseAppConfig(value, file);
}
