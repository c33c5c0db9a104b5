/**
 * The host's key: what lets the tab that hosted a session take its control back after a reload, whoever aggregates
 * meanwhile, without ever sending a secret. The host keeps a random seed (in its tab's session storage); the session's
 * config carries the end of a hash chain over it, H^n(seed). To take control back, the host reveals the link before
 * the current one; whoever aggregates checks that it hashes to the config's commitment, and the revealed link becomes
 * the new commitment. A link once revealed opens nothing again, and nobody can compute the link before it (SHA-256).
 */
import { sha256 } from './sha256';

/** How many times a host can take control back in one session. */
export const HOST_KEY_LINKS = 1_000;

const toHex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

function fromHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

const next = (link: string) => toHex(sha256(fromHex(link)));

export function randomHostSeed(): string {
  return toHex(crypto.getRandomValues(new Uint8Array(32)));
}

/** The commitment a new session's config carries: the chain's last link. */
export function hostCommitment(seed: string): string {
  let link = seed;
  for (let i = 0; i < HOST_KEY_LINKS; i++) link = next(link);
  return link;
}

/** The link that opens `commitment` (the one before it in this seed's chain), or null when the chain does not lead there or is used up. */
export function hostProof(seed: string, commitment: string): string | null {
  let link = seed;
  for (let i = 0; i < HOST_KEY_LINKS; i++) {
    const after = next(link);
    if (after === commitment) return i === 0 ? null : link;
    link = after;
  }
  return null;
}

/** Whether `proof` opens `commitment`. */
export function opensCommitment(proof: string, commitment: string): boolean {
  return /^[0-9a-f]{64}$/.test(proof) && next(proof) === commitment;
}
