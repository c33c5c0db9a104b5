import { describe, expect, it } from 'vitest';
import { ROUNDS_PER_VERSION } from '../fl/async/async-engine';
import type { AggregationMode } from '../fl/async/mode';
import { displayRoundOf, modelVersionOfRoundStart } from './async-round-engine';

const aggregation: AggregationMode = { mode: 'async', bufferSize: 2, staleness: { kind: 'constant' }, maxStaleness: null };
const asyncConfig = { aggregation };

describe('the round shown for a round-start or update', () => {
  it('is the round itself in sync mode', () => {
    expect(displayRoundOf(null, 7)).toBe(7);
    expect(displayRoundOf({}, 7)).toBe(7);
    expect(modelVersionOfRoundStart({}, 7)).toBe(6);
  });

  it('is the step an async assignment feeds (its model version + 1), not the assignment number', () => {
    const assignment = 3 * ROUNDS_PER_VERSION + 17; // model version 3, 17th assignment of it
    expect(modelVersionOfRoundStart(asyncConfig, assignment)).toBe(3);
    expect(displayRoundOf(asyncConfig, assignment)).toBe(4);
    // Step numbers (already small) pass through.
    expect(displayRoundOf(asyncConfig, 4)).toBe(4);
  });
});
