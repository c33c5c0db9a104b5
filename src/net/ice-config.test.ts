import { describe, expect, it } from 'vitest';
import { parseIceServer, parseIceServers } from './ice-config';

describe('ICE server settings', () => {
  it('parses STUN and TURN URLs, with TURN credentials and transport', () => {
    expect(parseIceServer('stun:192.168.1.5:3478')).toEqual({ urls: 'stun:192.168.1.5:3478' });
    expect(parseIceServer('turns:alice:p%40ss@turn.example.org:5349?transport=tcp')).toEqual({
      urls: 'turns:turn.example.org:5349?transport=tcp',
      username: 'alice',
      credential: 'p@ss',
    });
    expect(parseIceServer('stun:[fd00::1]:3478')).toEqual({ urls: 'stun:[fd00::1]:3478' });
  });

  it('reads a list separated by commas, spaces or lines; empty text means no servers', () => {
    expect(parseIceServers('')).toEqual([]);
    expect(parseIceServers(' stun:a.lan\n stun:b.lan:19302 ,')).toEqual([{ urls: 'stun:a.lan' }, { urls: 'stun:b.lan:19302' }]);
  });

  it('rejects bad entries with an error naming the entry and the problem', () => {
    expect(() => parseIceServer('http://stun.lan')).toThrow('ICE server "http://stun.lan": must start with one of stun:');
    expect(() => parseIceServer('turn:turn.lan:3478')).toThrow('TURN servers need credentials');
    expect(() => parseIceServer('stun:u:p@stun.lan')).toThrow('STUN servers take no credentials');
    expect(() => parseIceServer('stun:stun.lan:99999')).toThrow('port 99999 is out of range');
    expect(() => parseIceServer('stun:bad host')).toThrow('"bad host" is not HOST or HOST:PORT');
    expect(() => parseIceServer('turn:u:p@t.lan?foo=1')).toThrow('?transport=udp');
    expect(() => parseIceServer('turn:nopassword@t.lan')).toThrow('USER:PASSWORD@');
  });
});
