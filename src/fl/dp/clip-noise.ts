/**
 * The client's half of client-level DP (DP-FedAvg, McMahan et al. 2018): clip the update (delta and what the
 * strategy sends beside it, as one vector) to L2 norm C, then add this client's share of the Gaussian noise, so
 * that the sum of K clients carries noise of std sigma * C without any one tab, the aggregator included, adding it.
 */

/** A source of standard normal draws. */
export interface NormalSource {
  normal(): number;
}

/** Standard normals from the platform's CSPRNG (Box-Muller on 53-bit uniforms): what a live client draws from. */
export const cryptoNormal: NormalSource = {
  normal() {
    const words = globalThis.crypto.getRandomValues(new Uint32Array(4));
    const uniform = (hi: number, lo: number) => ((hi >>> 5) * 67108864 + (lo >>> 6) + 1) / 9007199254740993; // (0, 1)
    return Math.sqrt(-2 * Math.log(uniform(words[0], words[1]))) * Math.cos(2 * Math.PI * uniform(words[2], words[3]));
  },
};

/** L2 norm of several arrays taken as one vector. */
export function jointNorm(parts: readonly ArrayLike<number>[]): number {
  let s = 0;
  for (const p of parts) for (let i = 0; i < p.length; i++) s += p[i] * p[i];
  return Math.sqrt(s);
}

/** The factor (at most 1) that brings the joint norm down to `clipNorm`. */
export function clipFactor(norm: number, clipNorm: number): number {
  if (!(clipNorm > 0 && Number.isFinite(clipNorm))) throw new RangeError(`dp: clip norm ${clipNorm} is not positive`);
  if (!Number.isFinite(norm)) throw new RangeError('dp: the update is not finite');
  return norm > clipNorm ? clipNorm / norm : 1;
}

/**
 * The noise std each of `expectedClients` clients adds so that their sum carries sigma * clipNorm:
 * sigma * C / sqrt(K). With fewer survivors the sum carries less, and the accountant charges what it carried.
 */
export function perClientNoiseStd(noiseMultiplier: number, clipNorm: number, expectedClients: number): number {
  if (!(noiseMultiplier >= 0 && Number.isFinite(noiseMultiplier))) throw new RangeError(`dp: noise multiplier ${noiseMultiplier}`);
  if (!(Number.isInteger(expectedClients) && expectedClients >= 1)) throw new RangeError(`dp: expected clients ${expectedClients}`);
  return (noiseMultiplier * clipNorm) / Math.sqrt(expectedClients);
}

/** The noise multiplier a sum of `survivors` client shares carries when each was sized for `expectedClients`. */
export function carriedNoiseMultiplier(noiseMultiplier: number, survivors: number, expectedClients: number): number {
  return noiseMultiplier * Math.sqrt(survivors / expectedClients);
}
