/** Rewrites the README's list of run settings from src/fl/settings/declarations.ts. */
import { readFileSync, writeFileSync } from 'node:fs';
import { withSettingsList } from '../src/fl/settings/docs';

const path = new URL('../README.md', import.meta.url);
writeFileSync(path, withSettingsList(readFileSync(path, 'utf8')));
