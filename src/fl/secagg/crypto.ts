/**
 * The WebCrypto primitives of secure aggregation (browser, worker and Node 20 alike): ECDH P-256 key agreement,
 * HKDF-SHA-256 to turn a shared secret or a seed into keys, AES-CTR as the seeded PRG that expands a seed into a
 * uint32 mask, and AES-GCM for the shares one client sends another through the aggregator.
 */
const subtle = () => globalThis.crypto.subtle;
const ECDH = { name: 'ECDH', namedCurve: 'P-256' } as const;
/** An uncompressed P-256 public key: 0x04 || x || y. */
export const PUBLIC_KEY_BYTES = 65;
export const SEED_BYTES = 32;
const GCM_IV_BYTES = 12;
const text = new TextEncoder();
/** A copy on a plain ArrayBuffer, the only kind WebCrypto takes. */
const own = (bytes: Uint8Array): Uint8Array<ArrayBuffer> => new Uint8Array(bytes);

export interface EcdhKeyPair {
  privateKey: CryptoKey;
  /** Raw uncompressed public key, the form advertised to the other clients. */
  publicRaw: Uint8Array;
  /** The private scalar d (32 bytes), the part a client secret-shares so that its masks can be removed if it drops. */
  privateScalar: Uint8Array;
}

function base64UrlDecode(s: string): Uint8Array {
  const b64 = s.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (s.length % 4)) % 4);
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

function base64UrlEncode(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export async function generateKeyPair(): Promise<EcdhKeyPair> {
  const pair = (await subtle().generateKey(ECDH, true, ['deriveBits'])) as CryptoKeyPair;
  const publicRaw = new Uint8Array(await subtle().exportKey('raw', pair.publicKey));
  const jwk = await subtle().exportKey('jwk', pair.privateKey);
  return { privateKey: pair.privateKey, publicRaw, privateScalar: base64UrlDecode(jwk.d!) };
}

/** A private key rebuilt from its scalar and the public key it was advertised with (dropout recovery). */
export async function importPrivateScalar(privateScalar: Uint8Array, publicRaw: Uint8Array): Promise<CryptoKey> {
  checkPublicKey(publicRaw);
  const jwk: JsonWebKey = {
    kty: 'EC',
    crv: 'P-256',
    d: base64UrlEncode(privateScalar),
    x: base64UrlEncode(publicRaw.subarray(1, 33)),
    y: base64UrlEncode(publicRaw.subarray(33, 65)),
    ext: false,
  };
  return subtle().importKey('jwk', jwk, ECDH, false, ['deriveBits']);
}

function checkPublicKey(publicRaw: Uint8Array): void {
  if (!(publicRaw instanceof Uint8Array) || publicRaw.length !== PUBLIC_KEY_BYTES || publicRaw[0] !== 4) {
    throw new Error(`secagg: a public key must be ${PUBLIC_KEY_BYTES} bytes, uncompressed`);
  }
}

/** ECDH(mine, theirs): 32 bytes both sides compute alike. Throws on a key that is not a point of the curve. */
export async function sharedSecret(privateKey: CryptoKey, theirPublicRaw: Uint8Array): Promise<Uint8Array> {
  checkPublicKey(theirPublicRaw);
  const theirs = await subtle().importKey('raw', own(theirPublicRaw), ECDH, false, []);
  return new Uint8Array(await subtle().deriveBits({ name: 'ECDH', public: theirs }, privateKey, 256));
}

async function hkdfKey(ikm: Uint8Array, salt: Uint8Array, info: string, algorithm: 'AES-CTR' | 'AES-GCM', usages: KeyUsage[]): Promise<CryptoKey> {
  const base = await subtle().importKey('raw', own(ikm), 'HKDF', false, ['deriveKey']);
  return subtle().deriveKey({ name: 'HKDF', hash: 'SHA-256', salt: own(salt), info: text.encode(info) }, base, { name: algorithm, length: 256 }, false, usages);
}

/** Public per-round salt: the same seed never gives the same mask in two rounds or sessions. */
export function roundSalt(sessionId: string, round: number): Uint8Array {
  return text.encode(`fedtab-secagg|${sessionId}|${round}`);
}

/**
 * The PRG: `length` uint32 words of AES-256-CTR keystream under a key derived from `seed` (a pairwise shared secret
 * or a self-mask seed). Same seed and salt, same mask, on every platform.
 */
export async function expandMask(seed: Uint8Array, salt: Uint8Array, length: number): Promise<Uint32Array> {
  if (!(Number.isInteger(length) && length >= 0 && length <= 2 ** 28)) throw new RangeError(`secagg: mask length ${length}`);
  const key = await hkdfKey(seed, salt, 'mask', 'AES-CTR', ['encrypt']);
  const zeros = new Uint8Array(length * 4);
  const stream = await subtle().encrypt({ name: 'AES-CTR', counter: new Uint8Array(16), length: 64 }, key, zeros);
  return new Uint32Array(stream);
}

/** Encrypts `plain` for the holder of the other half of `secret`, bound to `context` (sender, receiver, round). */
export async function sealFor(secret: Uint8Array, salt: Uint8Array, context: string, plain: Uint8Array): Promise<Uint8Array> {
  const key = await hkdfKey(secret, salt, 'share', 'AES-GCM', ['encrypt']);
  const iv = globalThis.crypto.getRandomValues(new Uint8Array(GCM_IV_BYTES));
  const sealed = new Uint8Array(await subtle().encrypt({ name: 'AES-GCM', iv, additionalData: text.encode(context) }, key, own(plain)));
  const out = new Uint8Array(GCM_IV_BYTES + sealed.length);
  out.set(iv);
  out.set(sealed, GCM_IV_BYTES);
  return out;
}

/** Opens what sealFor made; throws when it was altered, is for another context, or is not for this key. */
export async function openFrom(secret: Uint8Array, salt: Uint8Array, context: string, box: Uint8Array): Promise<Uint8Array> {
  if (!(box instanceof Uint8Array) || box.length < GCM_IV_BYTES + 16) throw new Error('secagg: a sealed share is too short');
  const key = await hkdfKey(secret, salt, 'share', 'AES-GCM', ['decrypt']);
  try {
    return new Uint8Array(await subtle().decrypt({ name: 'AES-GCM', iv: own(box.subarray(0, GCM_IV_BYTES)), additionalData: text.encode(context) }, key, own(box.subarray(GCM_IV_BYTES))));
  } catch {
    throw new Error(`secagg: a sealed share does not open (${context})`);
  }
}

export function randomSeed(): Uint8Array {
  return globalThis.crypto.getRandomValues(new Uint8Array(SEED_BYTES));
}
