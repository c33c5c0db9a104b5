// Entry of a simulator training worker thread: loads the TypeScript worker through tsx, whether the parent runs
// under `tsx` (npm run sim) or vitest. (`execArgv: ['--import', 'tsx']` does not reach worker threads on Node 20.)
import { workerData } from 'node:worker_threads';
import { tsImport } from 'tsx/esm/api';

await tsImport(workerData.entry, import.meta.url);
