/** Rewrites the message routing table in docs/architecture.md from src/fl/routing.ts. */
import { readFileSync, writeFileSync } from 'node:fs';
import { withRoutingTable } from '../src/fl/routing-docs';

const path = new URL('../docs/architecture.md', import.meta.url);
writeFileSync(path, withRoutingTable(readFileSync(path, 'utf8')));
