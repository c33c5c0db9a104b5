/**
 * Child process of scripts/bench-attacks-signalling.ts: the real signalling server (`attachSignalling`, default
 * limits) alone in a process on 127.0.0.1, so that its memory is measured without the flooding client's.
 * Sends { port } once listening; answers every { type: 'sample' } with { rssMb, stats }.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { attachSignalling } from '../src/net/signalling-server';

const server = http.createServer();
const mount = attachSignalling(server, { log: () => undefined, otherUpgrades: 'refuse' });
server.on('request', (req, res) =>
  mount.middleware(req, res, () => {
    res.statusCode = 404;
    res.end('not found');
  }),
);
server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as AddressInfo).port }));
process.on('message', (m: { type?: string }) => {
  if (m.type === 'sample') process.send?.({ rssMb: process.memoryUsage().rss / 2 ** 20, stats: mount.stats() });
});
process.on('disconnect', () => process.exit(0));
