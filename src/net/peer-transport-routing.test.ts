import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createWireCodec } from '../fl/codec/wire-codec';
import { MESSAGE_TYPES } from '../fl/codec/validate';
import type { Message } from '../fl/protocol';
import { routeOf } from '../fl/routing';
import { oneSmallMessageOfEachType } from '../fl/testing/one-of-each';
import { PeerTransport } from './peer-transport';
import { DEFAULT_ADMISSION, resolvePeerTransportConfig } from './peer-transport-config';
import { FakePeerNetwork } from './testing/fake-peer-network';
import { FAKED_TIMERS, settle } from './testing/transport-time';

const codec = createWireCodec('float32');
const samples = oneSmallMessageOfEachType();
const timings = { signallingTimeoutMs: 1000, connectTimeoutMs: 5_000, heartbeatIntervalMs: 1000, peerSilenceTimeoutMs: 600_000 };

describe('PeerTransport admission follows the routing table', () => {
  const transports: PeerTransport[] = [];
  const make = (network: FakePeerNetwork, id: string) => {
    const peer = network.createPeer(id);
    const transport = new PeerTransport(peer, codec, resolvePeerTransportConfig({ signalling: { host: 'test.invalid', port: 1 }, timings }));
    transports.push(transport);
    const received: Message[] = [];
    transport.onMessage((_, m) => received.push(m));
    return { peer, transport, received };
  };
  beforeEach(() => {
    vi.useFakeTimers(FAKED_TIMERS);
  });
  afterEach(() => {
    for (const t of transports.splice(0)) t.close();
    vi.useRealTimers();
  });

  it('every sample fits one pre-admission frame, so only its type decides', () => {
    for (const type of MESSAGE_TYPES) {
      const frames = codec.encode(samples[type]);
      expect({ type, frames: frames.length, fits: frames[0].byteLength <= DEFAULT_ADMISSION.maxPreAdmissionBytes }).toEqual({ type, frames: 1, fits: true });
    }
  });

  for (const type of MESSAGE_TYPES) {
    const allowed = routeOf(type).beforeAdmission;
    it(`${type} from an unadmitted peer is ${allowed ? 'delivered' : 'refused and its connection closed'}`, () => {
      const network = new FakePeerNetwork();
      const host = make(network, 'host');
      const conn = host.peer.acceptFrom('stranger');
      conn.inject(codec.encode(samples[type])[0].slice().buffer);
      expect(host.received.map((m) => m.type)).toEqual(allowed ? [type] : []);
      expect(host.transport.connectedPeers()).toEqual(allowed ? ['stranger'] : []);
      expect(host.transport.rejections()['forbidden-type']).toBe(allowed ? 0 : 1);
    });

    it(`${type} to an unadmitted peer is ${allowed ? 'sent' : 'dropped and counted'}`, async () => {
      const network = new FakePeerNetwork();
      const host = make(network, 'host');
      const client = make(network, 'client');
      const connected = client.transport.connect('host');
      await settle();
      await connected;
      host.transport.send('client', samples[type]);
      await settle();
      expect(client.received.map((m) => m.type)).toEqual(allowed ? [type] : []);
      expect(host.transport.trafficWith('client').messagesDropped).toBe(allowed ? 0 : 1);
    });
  }
});
