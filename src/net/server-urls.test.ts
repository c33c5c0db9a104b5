import { describe, expect, it } from 'vitest';
import type os from 'node:os';
import { listServerUrls } from './server-urls';

const iface = (address: string, family: 'IPv4' | 'IPv6', internal: boolean) =>
  ({ address, family, internal, netmask: '', mac: '', cidr: null }) as os.NetworkInterfaceInfo;

const interfaces = {
  lo: [iface('127.0.0.1', 'IPv4', true), iface('::1', 'IPv6', true)],
  eth0: [iface('192.168.1.20', 'IPv4', false), iface('fe80::1', 'IPv6', false)],
  wlan0: [iface('10.0.0.7', 'IPv4', false)],
};

describe('listServerUrls', () => {
  it('lists every LAN IPv4 address for a wildcard bind, and localhost as local', () => {
    expect(listServerUrls({ address: '0.0.0.0', family: 'IPv4', port: 5173 }, 'https', '/', interfaces)).toEqual({
      urls: ['https://192.168.1.20:5173/', 'https://10.0.0.7:5173/'],
      local: ['https://localhost:5173/'],
    });
    expect(listServerUrls({ address: '::', family: 'IPv6', port: 80 }, 'http', '/app/', interfaces).urls).toEqual([
      'http://192.168.1.20:80/app/',
      'http://10.0.0.7:80/app/',
    ]);
  });

  it('gives only local URLs for a loopback bind and only that address for a specific one', () => {
    expect(listServerUrls({ address: '127.0.0.1', family: 'IPv4', port: 4000 }, 'http', '/', interfaces)).toEqual({
      urls: [],
      local: ['http://127.0.0.1:4000/'],
    });
    expect(listServerUrls({ address: '10.213.0.1', family: 'IPv4', port: 4000 }, 'http', '/', interfaces)).toEqual({
      urls: ['http://10.213.0.1:4000/'],
      local: [],
    });
    expect(listServerUrls(null, 'http')).toEqual({ urls: [], local: [] });
  });
});
