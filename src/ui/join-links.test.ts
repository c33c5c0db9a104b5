import { describe, expect, it } from 'vitest';
import { isLoopbackHost, joinLinks, rebaseLink } from './join-links';

describe('joinLinks', () => {
  it('prefers a LAN address when the session link points at localhost', () => {
    const links = joinLinks('http://localhost:5173/#/join/ABCDEF?s=f00', ['http://192.168.1.4:5173/', 'http://10.0.0.7:5173/']);
    expect(links.primary).toBe('http://192.168.1.4:5173/#/join/ABCDEF?s=f00');
    expect(links.lan).toEqual(['http://192.168.1.4:5173/#/join/ABCDEF?s=f00', 'http://10.0.0.7:5173/#/join/ABCDEF?s=f00']);
    expect(links.loopbackOnly).toBe(false);
    expect(links.secret).toBe('f00');
  });

  it('keeps a link that already works on the network', () => {
    const links = joinLinks('https://192.168.1.4:5173/#/join/ABCDEF?s=f00&a=p1', []);
    expect(links).toEqual({ primary: 'https://192.168.1.4:5173/#/join/ABCDEF?s=f00&a=p1', lan: [], loopbackOnly: false, secret: 'f00' });
  });

  it('warns when only a localhost link exists', () => {
    expect(joinLinks('http://127.0.0.1:5199/#/join/ABCDEF?s=f00', []).loopbackOnly).toBe(true);
  });

  it('skips malformed LAN URLs and rejects a malformed join link', () => {
    expect(joinLinks('http://localhost/#/join/ABCDEF?s=1', ['not a url', 'http://10.0.0.2/']).lan).toEqual(['http://10.0.0.2/#/join/ABCDEF?s=1']);
    expect(() => joinLinks('nonsense', [])).toThrow(/not a valid URL/);
  });
});

describe('helpers', () => {
  it('recognises loopback host names', () => {
    for (const h of ['localhost', '127.0.0.1', '127.1.2.3', '[::1]', 'app.localhost']) expect(isLoopbackHost(h)).toBe(true);
    for (const h of ['192.168.1.4', 'example.com', '10.0.0.1']) expect(isLoopbackHost(h)).toBe(false);
  });

  it('moves hash and query onto another base, keeping the base path', () => {
    expect(rebaseLink('http://localhost:5173/app/#/join/X?s=1', 'https://10.0.0.2:4443/fedtab/')).toBe('https://10.0.0.2:4443/fedtab/#/join/X?s=1');
  });
});
