import { describe, expect, it } from 'vitest';
import { screeningVerdicts, verdictSummary } from './verdicts';

describe('screening verdicts', () => {
  it('says who was left out, clipped or capped, why and by how much; a left-out update gets no other verdict', () => {
    const verdicts = screeningVerdicts({
      dropped: [{ clientId: 'c', reason: 'points away from the others (cosine -0.40 ...)' }],
      clipped: [
        { clientId: 'a', norm: 3.2, clippedTo: 1.1 },
        { clientId: 'b', norm: 2, clippedTo: 1.5, part: 'deltaC' },
        { clientId: 'c', norm: 9, clippedTo: 1 },
      ],
      capped: [
        { clientId: 'd', claimed: 1e9, capped: 620 },
        { clientId: 'c', claimed: 500, capped: 100 },
      ],
    });
    expect(verdicts).toEqual([
      { clientId: 'c', action: 'left-out', reason: 'points away from the others (cosine -0.40 ...)' },
      { clientId: 'a', action: 'clipped', reason: 'update norm 3.2 clipped to 1.1 (34% of it went in)' },
      { clientId: 'b', action: 'clipped', reason: 'its deltaC norm 2 clipped to 1.5 (75% of it went in)' },
      { clientId: 'd', action: 'capped', reason: 'sample count 1.00e+9 capped to 620 (its weight in the mean)' },
    ]);
    expect(verdictSummary(verdicts)).toBe('1 left out, 2 clipped, 1 capped');
    expect(verdictSummary([])).toBe('');
  });

  it("says when a clipped update had the wider bound of a label-verified minority", () => {
    const [v] = screeningVerdicts({ dropped: [], clipped: [{ clientId: 'm', norm: 12, clippedTo: 9, minority: true }], capped: [] });
    expect(v.reason).toBe("update norm 12 clipped to 9 (75% of it went in; a wider bound than others get, as its update follows labels unlike the others')");
  });
});
