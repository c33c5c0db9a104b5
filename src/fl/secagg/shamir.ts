/**
 * Shamir secret sharing over the prime field GF(2^521 - 1) (a Mersenne prime, so any 32-byte secret fits in one
 * element). A secret is the constant term of a random polynomial of degree t - 1; holder i gets its value at x = i.
 * Any t shares give the secret back (Lagrange interpolation at 0); fewer reveal nothing about it.
 */
export const FIELD_PRIME = (1n << 521n) - 1n;
/** Bytes of one field element on the wire (big-endian). */
export const SHARE_BYTES = 66;

export interface Share {
  /** The holder's evaluation point, 1..2^31. */
  x: number;
  y: bigint;
}

function mod(a: bigint): bigint {
  const r = a % FIELD_PRIME;
  return r < 0n ? r + FIELD_PRIME : r;
}

/** a^-1 mod p by the extended Euclidean algorithm (far cheaper than a^(p-2) for 521-bit numbers). */
function inverse(a: bigint): bigint {
  let r0 = FIELD_PRIME;
  let r1 = mod(a);
  if (r1 === 0n) throw new Error('shamir: no inverse of 0');
  let t0 = 0n;
  let t1 = 1n;
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [t0, t1] = [t1, t0 - q * t1];
  }
  return mod(t0);
}

/** A uniform field element from the platform's CSPRNG (rejection sampling on 521 random bits). */
export function randomFieldElement(): bigint {
  const bytes = new Uint8Array(SHARE_BYTES);
  for (;;) {
    globalThis.crypto.getRandomValues(bytes);
    bytes[0] &= 0x01; // 528 bits drawn, 521 kept
    const value = bytesToBigInt(bytes);
    if (value < FIELD_PRIME) return value;
  }
}

export function bytesToBigInt(bytes: Uint8Array): bigint {
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return v;
}

/** Big-endian, exactly `length` bytes; throws when the value does not fit. */
export function bigIntToBytes(value: bigint, length: number): Uint8Array {
  if (value < 0n) throw new RangeError('shamir: negative value');
  const out = new Uint8Array(length);
  let v = value;
  for (let i = length - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  if (v !== 0n) throw new RangeError(`shamir: value does not fit in ${length} bytes`);
  return out;
}

function checkPoints(xs: readonly number[]): void {
  if (new Set(xs).size !== xs.length) throw new Error('shamir: two shares with the same evaluation point');
  for (const x of xs) if (!(Number.isInteger(x) && x >= 1 && x <= 2 ** 31)) throw new Error(`shamir: evaluation point ${x} is not in 1..2^31`);
}

/** Shares of `secret` for the holders at points `xs`, any `threshold` of which recover it. */
export function splitSecret(secret: bigint, threshold: number, xs: readonly number[]): Share[] {
  if (secret < 0n || secret >= FIELD_PRIME) throw new RangeError('shamir: secret outside the field');
  if (!(Number.isInteger(threshold) && threshold >= 1 && threshold <= xs.length)) throw new Error(`shamir: threshold ${threshold} for ${xs.length} holders`);
  checkPoints(xs);
  const coefficients = [secret, ...Array.from({ length: threshold - 1 }, randomFieldElement)];
  return xs.map((x) => {
    const X = BigInt(x);
    let y = 0n;
    for (let i = coefficients.length - 1; i >= 0; i--) y = (y * X + coefficients[i]) % FIELD_PRIME;
    return { x, y };
  });
}

/** The polynomial through `shares`, evaluated at `at` (0: the secret), with one inversion for all the terms. */
function interpolate(shares: readonly Share[], at: bigint): bigint {
  const xs = shares.map((s) => BigInt(s.x));
  const nums: bigint[] = [];
  let denProduct = 1n;
  const dens: bigint[] = [];
  for (let i = 0; i < xs.length; i++) {
    let num = 1n;
    let den = 1n;
    for (let j = 0; j < xs.length; j++) {
      if (j === i) continue;
      num = (num * mod(at - xs[j])) % FIELD_PRIME;
      den = (den * mod(xs[i] - xs[j])) % FIELD_PRIME;
    }
    nums.push(num);
    dens.push(den);
    denProduct = (denProduct * den) % FIELD_PRIME;
  }
  const invProduct = inverse(denProduct);
  let result = 0n;
  for (let i = 0; i < xs.length; i++) {
    // 1 / den_i = (product of the other denominators) / (product of all)
    let others = 1n;
    for (let j = 0; j < xs.length; j++) if (j !== i) others = (others * dens[j]) % FIELD_PRIME;
    const lagrange = (nums[i] * ((others * invProduct) % FIELD_PRIME)) % FIELD_PRIME;
    result = (result + mod(shares[i].y) * lagrange) % FIELD_PRIME;
  }
  return result;
}

/**
 * The secret from at least `threshold` shares. Shares beyond the threshold must lie on the same polynomial: a share
 * that does not (corrupted, or from a holder that lied) makes this throw instead of returning a wrong secret.
 */
export function combineShares(shares: readonly Share[], threshold: number): bigint {
  if (shares.length < threshold) throw new Error(`shamir: ${shares.length} shares, ${threshold} needed`);
  checkPoints(shares.map((s) => s.x));
  for (const s of shares) if (s.y < 0n || s.y >= FIELD_PRIME) throw new Error(`shamir: share ${s.x} is outside the field`);
  const basis = shares.slice(0, threshold);
  for (const extra of shares.slice(threshold)) {
    if (interpolate(basis, BigInt(extra.x)) !== extra.y) throw new Error(`shamir: share ${extra.x} does not agree with the others`);
  }
  return interpolate(basis, 0n);
}
