import { describe, expect, it } from 'vitest';
import { parseRunResult, type RunResult } from '../fl/result-schema';
import { runSimulation, SIM_DEFAULTS, type SimResult } from './simulation';

// Compile-time: every simulator result is a run result (one schema for both).
const simIsRun = (s: SimResult): RunResult => s;
void simIsRun;

describe('the simulator result', () => {
  it('a real simulator result (run now, written as the CLI writes it) validates against the run schema', async () => {
    const sim = await runSimulation({ ...SIM_DEFAULTS, limit: 400, testLimit: 200, clients: 2, rounds: 1, backend: 'cpu', codec: 'float32' });
    const written = JSON.parse(JSON.stringify(sim));
    expect(parseRunResult(written)).toEqual(written);
  }, 60_000);
});
