/** Rewrites the README's strategy list from the registry. */
import { readFileSync, writeFileSync } from 'node:fs';
import { withStrategyList } from '../src/fl/strategies/docs';

const path = new URL('../README.md', import.meta.url);
writeFileSync(path, withStrategyList(readFileSync(path, 'utf8')));
