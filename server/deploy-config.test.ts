import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDeployArgs, turnserverConf, writeDeployConfig } from './deploy-config';
import { readAppConfig } from './app-config';
import { iceConfigFor, fixedRelayOffer } from '../src/net/relay-offer';
import { turnPassword } from '../src/net/turn/turn-credentials';

describe('deployment configuration', () => {
  it('writes coturn and app configs sharing one fresh secret, readable by their owner only', () => {
    const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedtab-deploy-'));
    const options = parseDeployArgs(['--domain', 'fedtab.school.example', '--turn-domain', 'turn.school.example', '--public-ip', '203.0.113.7', '--private-ip', '10.0.0.7', '--out', outDir]);
    const files = writeDeployConfig(options);
    const conf = fs.readFileSync(files.turnserverConf, 'utf8');
    const secret = /^static-auth-secret=(.+)$/m.exec(conf)![1];
    expect(secret.length).toBeGreaterThanOrEqual(40);
    expect(conf).toMatch(/^use-auth-secret$/m);
    expect(conf).toMatch(/^realm=turn\.school\.example$/m);
    expect(conf).toMatch(/^external-ip=203\.0\.113\.7\/10\.0\.0\.7$/m);
    expect(conf).toMatch(/^denied-peer-ip=127\.0\.0\.0-127\.255\.255\.255$/m);
    expect(conf).toMatch(/^total-quota=\d+$/m);
    expect(conf).toMatch(/^max-bps=\d+$/m);
    const app = readAppConfig(files.appConfig);
    expect(app).toMatchObject({ host: '127.0.0.1', port: 5173, trustedProxies: ['127.0.0.1', '::1'], relay: { kind: 'external', secret } });
    for (const file of Object.values(files)) expect(fs.statSync(file).mode & 0o077).toBe(0);
    // A tab's credentials are what coturn's use-auth-secret checks: HMAC-SHA1(secret, "expiry:label"), base64.
    const relay = app.relay as { secret: string; urls: string[] };
    const ice = iceConfigFor(fixedRelayOffer(relay.secret, relay.urls), 'ignored', 'student1', 1_700_000_000_000);
    const turn = ice.iceServers.find((s) => s.username)!;
    expect(turn.urls).toEqual(['turn:turn.school.example:3478?transport=udp', 'turn:turn.school.example:3478?transport=tcp', 'turns:turn.school.example:5349?transport=tcp']);
    expect(turn.credential).toBe(turnPassword(secret, turn.username!));
  });

  it('reads trustedProxies, and refuses one that is not an address, naming the field', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedtab-app-config-'));
    const file = path.join(dir, 'app.json');
    fs.writeFileSync(file, JSON.stringify({ trustedProxies: ['10.0.0.2'] }));
    expect(readAppConfig(file).trustedProxies).toEqual(['10.0.0.2']);
    fs.writeFileSync(file, JSON.stringify({ trustedProxies: ['proxy.local'] }));
    expect(() => readAppConfig(file)).toThrow(/trustedProxies must list the proxies' IP addresses/);
  });

  it('makes a new secret each time and refuses bad arguments by name', () => {
    const a = parseDeployArgs(['--domain', 'a.example']);
    expect(a.turnDomain).toBe('a.example');
    expect(parseDeployArgs(['--domain', 'a.example']).secret).not.toBe(a.secret);
    expect(turnserverConf(a)).not.toContain('external-ip');
    expect(() => parseDeployArgs([])).toThrow('--domain is required');
    expect(() => parseDeployArgs(['--domain', 'bad host'])).toThrow('--domain: "bad host" is not a host name');
    expect(() => parseDeployArgs(['--domain', 'a.example', '--public-ip', '999.1.1.1'])).toThrow('--public-ip: "999.1.1.1" is not an IPv4 address');
    expect(() => parseDeployArgs(['--domain', 'a.example', '--private-ip', '10.0.0.1'])).toThrow('--private-ip needs --public-ip');
    expect(() => parseDeployArgs(['--domain', 'a.example', '--tls'])).toThrow('unknown argument "--tls"');
  });
});
