import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import type { PeerView, RoundView } from '../session/types';
import { AsyncPanel } from './components/AsyncPanel';

const round = (participants: string[], staleness: number[]): RoundView => ({
  round: 1, accuracy: null, loss: null, decomposition: null, participants, participantCount: participants.length, missing: [],
  trainMs: 0, aggregateMs: 0, evalMs: 0, slowestClientMs: 0, bytesSent: 0, bytesReceived: 0, staleness,
});

describe('AsyncPanel', () => {
  it('lists the updates per peer and draws one bar per staleness bin', () => {
    const peers = [{ id: 'a', name: 'Laptop' }, { id: 'b', name: 'Phone' }] as PeerView[];
    const html = renderToStaticMarkup(createElement(AsyncPanel, { rounds: [round(['a', 'b'], [0, 4]), round(['a', 'a'], [1, 0])], peers }));
    expect(html).toContain('4 updates used, mean staleness 1.3 steps');
    expect(html).toMatch(/Laptop<\/th><td class="num">3<\/td>/);
    expect(html).toMatch(/Phone<\/th><td class="num">1<\/td><td class="num">4.0<\/td>/);
    expect(html.match(/steps stale: /g)).toHaveLength(11);
  });

  it('says so when nothing was aggregated here yet', () => {
    expect(renderToStaticMarkup(createElement(AsyncPanel, { rounds: [], peers: [] }))).toContain('No step yet');
  });
});
