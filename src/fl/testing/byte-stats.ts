/** Byte statistics for the tests that check what crosses the wire looks like noise. */

/** Pearson chi-square statistic of the byte frequencies against the uniform distribution (255 degrees of freedom). */
export function byteChiSquare(bytes: Uint8Array): number {
  const counts = new Float64Array(256);
  for (const b of bytes) counts[b]++;
  const expected = bytes.length / 256;
  return counts.reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
}

/** The chi-square(255) quantile at 1 - 1e-6 (Wilson-Hilferty): a uniform source exceeds it once in a million. */
export const CHI2_255_Q_1E6 = 377;
