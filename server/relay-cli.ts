/**
 * The TURN relay on its own (without the app), for a relay on another machine than the app, and for bench:relay,
 * which measures its CPU and memory as a process of its own:
 *
 *   FEDTAB_RELAY_SECRET=... tsx server/relay-cli.ts [--port 3478]
 *
 * The app then offers it as an external relay (app config `relay.kind: "external"` with the same secret). The secret
 * comes from the environment, never the command line (which other users of the machine can read). It prints
 * "relay listening on PORT"; a line "stats" on stdin prints the relay's counters as one JSON line.
 */
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { DEFAULT_RELAY_PORT } from './app-config';
import { startTurnServer } from '../src/net/turn/turn-server';

export function parseRelayArgs(argv: readonly string[], env: NodeJS.ProcessEnv): { port: number; secret: string } {
  let port = DEFAULT_RELAY_PORT;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] !== '--port') throw new Error(`unknown argument "${argv[i]}" (expected --port N)`);
    port = Number(argv[++i]);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port: "${argv[i]}" is not a port number`);
  }
  const secret = env.FEDTAB_RELAY_SECRET ?? '';
  if (secret.length < 16) throw new Error('FEDTAB_RELAY_SECRET must hold the shared secret (16 characters or more)');
  return { port, secret };
}

async function main(): Promise<void> {
  const { port, secret } = parseRelayArgs(process.argv.slice(2), process.env);
  const relay = await startTurnServer({ secret, port });
  console.log(`relay listening on ${relay.port} (UDP on ${relay.addresses.join(', ')}; TCP on all)`);
  readline.createInterface({ input: process.stdin }).on('line', (line) => {
    if (line.trim() === 'stats') console.log(JSON.stringify(relay.stats()));
  });
  const stop = () => void relay.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    console.error(`fedtab relay: ${(error as Error).message}`);
    process.exit(1);
  });
}
