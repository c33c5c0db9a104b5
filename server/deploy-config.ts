/**
 * `npm run config:deploy -- --domain app.example.org [--turn-domain turn.example.org] [--public-ip 203.0.113.7]
 *  [--private-ip 10.0.0.7] [--out deploy]` writes what a deployment past one machine needs (docs/deploy.md):
 *  - turnserver.conf for coturn: REST-API credentials (use-auth-secret) with a fresh shared secret, quotas and
 *    bandwidth per allocation matching the embedded relay's limits, no relaying to loopback, private or multicast
 *    addresses;
 *  - fedtab.config.json for `tsx server/serve.ts --config`: the app on 127.0.0.1 behind the TLS reverse proxy, the
 *    relay's URLs and the same secret.
 * Both files hold the secret: they are written readable by their owner only.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';
import { newTurnSecret } from '../src/net/turn/turn-credentials';
import { TURN_LIMITS } from '../src/net/turn/turn-server';
import { parseAppConfig, type AppConfig } from './app-config';

export interface DeployOptions {
  /** Public host name of the app (served over HTTPS by the reverse proxy). */
  domain: string;
  /** Public host name of the TURN server (its certificate's name for TURN over TLS). */
  turnDomain: string;
  /** coturn's public address, when it sits behind a NAT (cloud VMs): with privateIp, coturn maps one to the other. */
  publicIp?: string;
  privateIp?: string;
  outDir: string;
  /** Port the app listens on behind the proxy. */
  appPort: number;
  secret: string;
}

const HOST_NAME = /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

export function parseDeployArgs(argv: readonly string[]): DeployOptions {
  const values: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!['--domain', '--turn-domain', '--public-ip', '--private-ip', '--out', '--app-port'].includes(arg)) {
      throw new Error(`unknown argument "${arg}" (expected --domain, --turn-domain, --public-ip, --private-ip, --out, --app-port)`);
    }
    const value = argv[++i];
    if (value === undefined || value.startsWith('--')) throw new Error(`${arg} needs a value`);
    values[arg] = value;
  }
  const domain = values['--domain'];
  if (!domain) throw new Error('--domain is required: the public host name the app is served under, e.g. --domain fedtab.school.example');
  const turnDomain = values['--turn-domain'] ?? domain;
  for (const [flag, name] of [['--domain', domain], ['--turn-domain', turnDomain]]) {
    if (!HOST_NAME.test(name)) throw new Error(`${flag}: "${name}" is not a host name`);
  }
  for (const flag of ['--public-ip', '--private-ip']) {
    if (values[flag] !== undefined && !net.isIPv4(values[flag])) throw new Error(`${flag}: "${values[flag]}" is not an IPv4 address`);
  }
  if (values['--private-ip'] !== undefined && values['--public-ip'] === undefined) {
    throw new Error('--private-ip needs --public-ip (coturn maps the public address to the private one)');
  }
  const appPort = Number(values['--app-port'] ?? 5173);
  if (!Number.isInteger(appPort) || appPort < 1 || appPort > 65535) throw new Error(`--app-port: "${values['--app-port']}" is not a port number`);
  return {
    domain,
    turnDomain,
    ...(values['--public-ip'] ? { publicIp: values['--public-ip'] } : {}),
    ...(values['--private-ip'] ? { privateIp: values['--private-ip'] } : {}),
    outDir: path.resolve(values['--out'] ?? 'deploy'),
    appPort,
    secret: newTurnSecret(),
  };
}

/** Peers coturn never relays to: "this network", loopback, private ranges, shared CGN space, link-local, multicast and reserved. */
const DENIED_PEERS = [
  '0.0.0.0-0.255.255.255',
  '10.0.0.0-10.255.255.255',
  '100.64.0.0-100.127.255.255',
  '127.0.0.0-127.255.255.255',
  '169.254.0.0-169.254.255.255',
  '172.16.0.0-172.31.255.255',
  '192.168.0.0-192.168.255.255',
  '224.0.0.0-255.255.255.255',
  '::1',
  'fc00::-fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
  'fe80::-febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
];

export function turnserverConf(o: DeployOptions): string {
  const lines = [
    '# coturn configuration for fedtab, written by `npm run config:deploy` (see docs/deploy.md).',
    '# It holds the shared secret: keep it readable by coturn only.',
    'listening-port=3478',
    'tls-listening-port=5349',
    'fingerprint',
    '# Time-limited credentials (TURN REST API): the fedtab app mints them with the same secret.',
    'use-auth-secret',
    `static-auth-secret=${o.secret}`,
    `realm=${o.turnDomain}`,
    `server-name=${o.turnDomain}`,
    `cert=/etc/letsencrypt/live/${o.turnDomain}/fullchain.pem`,
    `pkey=/etc/letsencrypt/live/${o.turnDomain}/privkey.pem`,
    'no-tlsv1',
    'no-tlsv1_1',
    '# Limits, as the embedded relay has them: allocations in all and per user, bandwidth per allocation, lifetimes.',
    `total-quota=${TURN_LIMITS.maxAllocations}`,
    `user-quota=${TURN_LIMITS.maxAllocationsPerUser}`,
    `max-bps=${TURN_LIMITS.bytesPerSecond}`,
    `max-allocate-lifetime=${TURN_LIMITS.maxLifetimeS}`,
    `permission-lifetime=${TURN_LIMITS.permissionLifetimeS}`,
    `channel-lifetime=${TURN_LIMITS.channelLifetimeS}`,
    `stale-nonce=${TURN_LIMITS.nonceLifetimeS}`,
    'min-port=49152',
    'max-port=65535',
    '# Never a way into the server\'s own network.',
    'no-multicast-peers',
    ...DENIED_PEERS.map((range) => `denied-peer-ip=${range}`),
    ...(o.publicIp
      ? o.privateIp
        ? [`external-ip=${o.publicIp}/${o.privateIp}`, `# Relay-to-relay traffic reaches the relay itself through its private address.`, `allowed-peer-ip=${o.privateIp}`]
        : [`external-ip=${o.publicIp}`]
      : []),
    'no-cli',
    'simple-log',
  ];
  return `${lines.join('\n')}\n`;
}

export function appConfig(o: DeployOptions): AppConfig {
  return {
    port: o.appPort,
    host: '127.0.0.1',
    // The reverse proxy runs on this machine: tabs count by the address it forwards.
    trustedProxies: ['127.0.0.1', '::1'],
    relay: {
      kind: 'external',
      secret: o.secret,
      urls: [`turn:${o.turnDomain}:3478?transport=udp`, `turn:${o.turnDomain}:3478?transport=tcp`, `turns:${o.turnDomain}:5349?transport=tcp`],
    },
  };
}

export function writeDeployConfig(o: DeployOptions): { turnserverConf: string; appConfig: string } {
  fs.mkdirSync(o.outDir, { recursive: true });
  const files = { turnserverConf: path.join(o.outDir, 'turnserver.conf'), appConfig: path.join(o.outDir, 'fedtab.config.json') };
  const app = appConfig(o);
  parseAppConfig(app, files.appConfig); // what serve.ts will accept
  fs.writeFileSync(files.turnserverConf, turnserverConf(o), { mode: 0o600 });
  fs.writeFileSync(files.appConfig, `${JSON.stringify(app, null, 2)}\n`, { mode: 0o600 });
  return files;
}

function main(): void {
  const options = parseDeployArgs(process.argv.slice(2));
  const files = writeDeployConfig(options);
  console.log(`wrote ${files.turnserverConf} (coturn) and ${files.appConfig} (the app), with a fresh shared secret`);
  console.log(`next: docs/deploy.md — copy turnserver.conf to /etc/turnserver.conf on ${options.turnDomain},`);
  console.log(`      run the app with: npx tsx server/serve.ts --config ${path.relative(process.cwd(), files.appConfig)}`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    main();
  } catch (error) {
    console.error(`config:deploy: ${(error as Error).message}`);
    process.exit(2);
  }
}
