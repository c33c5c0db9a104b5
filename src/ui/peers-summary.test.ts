import { describe, expect, it } from 'vitest';
import type { PeerView } from '../session/types';
import { addressToType, peersSummary } from './peers-summary';

const peer = (status: PeerView['status'], patch: Partial<PeerView> = {}) => ({ status, isAggregator: false, numSamples: 10, ...patch });

describe('the projector summary', () => {
  it('counts the devices by what they do, without those that left or an aggregator that does not train', () => {
    expect(peersSummary([peer('idle', { isAggregator: true, numSamples: 0 }), peer('training'), peer('training'), peer('uploaded'), peer('no-data', { numSamples: 0 }), peer('left')])).toBe(
      '4 devices: 2 training, 1 update sent, 1 no data yet',
    );
    expect(peersSummary([peer('training', { isAggregator: true })])).toBe('1 device: 1 training');
    expect(peersSummary([])).toBe('no devices yet');
  });

  it('gives the address to type: the page of the join link, without its route or secret', () => {
    expect(addressToType('https://192.168.1.20:5173/#/join/ABC123?s=SECRETXXXX')).toBe('https://192.168.1.20:5173');
    expect(addressToType('http://class.example.org/app/#/join/ABC123?s=S')).toBe('http://class.example.org/app/');
  });
});
