/**
 * Network topologies for browser tests, built inside run-netns.sh's namespace (this process is root there): a
 * bridge the app server sits on, and one network namespace per device (a sleeping `unshare -n` process holds it),
 * joined by veth pairs, with bridge port isolation (Wi-Fi client isolation), a NAT router namespace, and iptables.
 * Chromium runs inside a device's namespace through a small nsenter wrapper; Playwright drives it over its pipe.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { CHROMIUM_FLAGS, CHROMIUM_PATH } from './browser';

export const BRIDGE = 'fedbr0';
/** The server's address on the bridge: the classroom's access point / the school's server. */
export const SERVER_ADDRESS = '10.214.0.1';
const BRIDGE_PREFIX = '10.214.0';

function run(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`${command} ${args.join(' ')}: ${e.stderr?.trim() || e.message}`);
  }
}

export function createBridge(): void {
  nextHost = FIRST_HOST;
  run('ip', ['link', 'add', BRIDGE, 'type', 'bridge']);
  run('ip', ['addr', 'add', `${SERVER_ADDRESS}/24`, 'dev', BRIDGE]);
  run('ip', ['link', 'set', BRIDGE, 'up']);
}

export function removeBridge(): void {
  try {
    run('ip', ['link', 'del', BRIDGE]);
  } catch {
    // already gone
  }
}

/**
 * Resolves once the kernel has removed every device port and the bridge from this namespace (a closed device's
 * namespace, with its veth pair, goes in the background) and the links have stayed as they are for a second:
 * until then a browser started by the next test sees the network change and aborts its page loads.
 */
export async function waitForQuietNetwork(timeoutMs = 60_000): Promise<void> {
  const ours = () => run('ip', ['-o', 'link', 'show']).split('\n').filter((line) => /\b(fedp\d+|fedbr0)[@:]/.test(line));
  const deadline = Date.now() + timeoutMs;
  let last = '';
  let quietSince = Date.now();
  for (;;) {
    const links = run('ip', ['-o', 'link', 'show']);
    if (links !== last) {
      last = links;
      quietSince = Date.now();
    }
    if (ours().length === 0 && Date.now() - quietSince >= 1000) return;
    if (Date.now() > deadline) throw new Error(`the test network did not settle within ${timeoutMs} ms: ${ours().join('; ')}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** One device's network namespace, held by a sleeping process. */
export class Namespace {
  /** Its veth ports on the bridge (in this namespace), which the kernel removes some time after close(). */
  readonly bridgePorts: string[] = [];

  private constructor(
    readonly name: string,
    private readonly holder: ChildProcess,
  ) {}

  static async create(name: string): Promise<Namespace> {
    const holder = spawn('unshare', ['-n', 'sleep', 'infinity'], { stdio: 'ignore' });
    const own = fs.readlinkSync('/proc/self/ns/net');
    for (let i = 0; i < 100; i++) {
      const theirs = holder.pid ? fs.readlinkSync(`/proc/${holder.pid}/ns/net`) : own;
      if (theirs !== own) {
        const ns = new Namespace(name, holder);
        // IPv4 only: IPv6 addresses appearing a second after an interface comes up make Chromium report
        // ERR_NETWORK_CHANGED to the page loads in flight.
        ns.exec('sysctl', ['-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
        ns.exec('ip', ['link', 'set', 'lo', 'up']);
        return ns;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    holder.kill();
    throw new Error(`namespace ${name}: unshare -n did not start`);
  }

  get pid(): number {
    return this.holder.pid!;
  }

  exec(command: string, args: string[]): string {
    return run('nsenter', [`--net=/proc/${this.pid}/ns/net`, command, ...args]);
  }

  /** Chromium inside this namespace. */
  async launchChromium(extraArgs: string[]): Promise<Browser> {
    const wrapper = path.join(os.tmpdir(), `fedtab-chromium-${this.name}-${this.pid}.sh`);
    fs.writeFileSync(wrapper, `#!/bin/sh\nexec nsenter --net=/proc/${this.pid}/ns/net ${CHROMIUM_PATH} "$@"\n`, { mode: 0o755 });
    return chromium.launch({ executablePath: wrapper, args: [...CHROMIUM_FLAGS, ...extraArgs], headless: true });
  }

  /**
   * Ends every process in this namespace (a browser that did not close, after a failed test, would keep it and its
   * veth pair alive), then the holder: the kernel then removes the namespace and its links.
   */
  close(): void {
    let inode: string;
    try {
      inode = fs.readlinkSync(`/proc/${this.pid}/ns/net`);
    } catch {
      return; // the holder is gone already
    }
    for (const entry of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(entry) || Number(entry) === this.pid) continue;
      try {
        if (fs.readlinkSync(`/proc/${entry}/ns/net`) === inode) process.kill(Number(entry), 'SIGKILL');
      } catch {
        // exited meanwhile, or not ours to read
      }
    }
    this.holder.kill();
  }
}

let nextPort = 0;
const FIRST_HOST = 2;
let nextHost = FIRST_HOST;

/**
 * Puts `ns` on the bridge at a BRIDGE_PREFIX address no earlier device of this bridge had, its default route via the
 * server; returns the address. `isolated`: the bridge port forwards only to the bridge itself (the server), never to
 * other isolated ports: Wi-Fi client isolation.
 *
 * Addresses are never reused because a closed namespace's veth stays on the bridge, answering ARP for its address,
 * until the kernel gets round to removing it: a new device at the same address would have the server's replies
 * (and RSTs from the old namespace) land on the wrong side.
 */
export function attachToBridge(ns: Namespace, options: { isolated?: boolean } = {}): string {
  if (nextHost > 254) throw new Error(`bridge ${BRIDGE}: no unused address left (recreate the bridge)`);
  const port = `fedp${nextPort++}`;
  const address = `${BRIDGE_PREFIX}.${nextHost++}`;
  run('ip', ['link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', String(ns.pid)]);
  ns.bridgePorts.push(port);
  run('ip', ['link', 'set', port, 'master', BRIDGE, 'up']);
  if (options.isolated) run('bridge', ['link', 'set', 'dev', port, 'isolated', 'on']);
  ns.exec('ip', ['addr', 'add', `${address}/24`, 'dev', 'eth0']);
  ns.exec('ip', ['link', 'set', 'eth0', 'up']);
  ns.exec('ip', ['route', 'add', 'default', 'via', SERVER_ADDRESS]);
  return address;
}

/**
 * Closes `namespaces` and resolves once the kernel has removed their bridge ports, so that the next test starts on a
 * bridge without leftovers. Returns how long that took.
 */
export async function closeNamespaces(namespaces: Namespace[], timeoutMs = 60_000): Promise<number> {
  const started = Date.now();
  namespaces.forEach((ns) => ns.close());
  const ports = new Set(namespaces.flatMap((ns) => ns.bridgePorts));
  const remaining = () =>
    run('ip', ['-o', 'link', 'show'])
      .split('\n')
      .map((line) => /^\d+: ([^:@]+)[@:]/.exec(line)?.[1])
      .filter((name): name is string => name !== undefined && ports.has(name));
  while (remaining().length > 0) {
    if (Date.now() - started > timeoutMs) throw new Error(`bridge ports of closed namespaces still there after ${timeoutMs} ms: ${remaining().join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return Date.now() - started;
}

/**
 * Puts `device` behind `router` (already on the bridge): a private LAN 192.168.50.0/24 that the router masquerades
 * to its bridge address (a home or school NAT). Returns the device's private address.
 */
export function attachBehindNat(router: Namespace, device: Namespace): string {
  router.exec('sysctl', ['-q', '-w', 'net.ipv4.ip_forward=1']);
  router.exec('iptables', ['-t', 'nat', '-A', 'POSTROUTING', '-o', 'eth0', '-j', 'MASQUERADE']);
  router.exec('ip', ['link', 'add', 'lan0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', String(device.pid)]);
  router.exec('ip', ['addr', 'add', '192.168.50.1/24', 'dev', 'lan0']);
  router.exec('ip', ['link', 'set', 'lan0', 'up']);
  device.exec('ip', ['addr', 'add', '192.168.50.2/24', 'dev', 'eth0']);
  device.exec('ip', ['link', 'set', 'eth0', 'up']);
  device.exec('ip', ['route', 'add', 'default', 'via', '192.168.50.1']);
  return '192.168.50.2';
}

/**
 * Drops UDP between the server (this namespace) and `address`, both ways: a network that lets only TCP through to
 * the server. Returns the function that lifts it. (Rules inside the device's own namespace would make Chromium
 * report ERR_NETWORK_CHANGED to its page loads.)
 */
export function blockUdpWithServer(address: string): () => void {
  const rules = [
    ['INPUT', '-s', address, '-p', 'udp', '-j', 'DROP'],
    ['OUTPUT', '-d', address, '-p', 'udp', '-j', 'DROP'],
  ];
  for (const rule of rules) run('iptables', ['-A', ...rule]);
  return () => {
    for (const rule of rules) run('iptables', ['-D', ...rule]);
  };
}

/**
 * Shuts `address` out of the relay: no UDP to the server at all (the relay's listening port and the relayed
 * addresses of other tabs' allocations) and no TCP to the relay's `port`. The app itself (TCP) still loads.
 */
export function blockRelayFrom(address: string, port: number): () => void {
  const rules = [
    ['INPUT', '-s', address, '-p', 'udp', '-j', 'DROP'],
    ['INPUT', '-s', address, '-p', 'tcp', '--dport', String(port), '-j', 'DROP'],
  ];
  for (const rule of rules) run('iptables', ['-A', ...rule]);
  return () => {
    for (const rule of rules) run('iptables', ['-D', ...rule]);
  };
}
