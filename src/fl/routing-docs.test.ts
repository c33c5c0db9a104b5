import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MESSAGE_TYPES } from './codec/validate';
import { routingTableMarkdown, withRoutingTable } from './routing-docs';

describe('the message routing table in docs/architecture.md', () => {
  it('is the one generated from src/fl/routing.ts', () => {
    const doc = readFileSync(new URL('../../docs/architecture.md', import.meta.url), 'utf8');
    expect(withRoutingTable(doc)).toBe(doc);
  });

  it('has one row per message type', () => {
    const rows = routingTableMarkdown().split('\n').filter((l) => l.startsWith('| `'));
    expect(rows.map((l) => l.slice(3, l.indexOf('`', 3))).sort()).toEqual([...MESSAGE_TYPES].sort());
  });

  it('refuses a document without the markers', () => {
    expect(() => withRoutingTable('# no table here')).toThrow('routing table markers not found');
  });
});
