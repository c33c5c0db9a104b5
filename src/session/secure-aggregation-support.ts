/**
 * Secure aggregation needs the browser's WebCrypto (ECDH, HKDF, AES), which browsers offer only to secure pages:
 * https, or localhost. A tab on a plain-http LAN address cannot take part, and says so before a round waits for it.
 */

/** What a page exposes that decides it (globalThis in a browser). */
export interface PageCrypto {
  crypto?: { subtle?: unknown };
  location?: { protocol: string; host: string };
}

/** A tab that cannot take part in this session at all: it leaves instead of joining. */
export class CannotTakePart extends Error {}

/** Why this page cannot run secure aggregation (null: it can), worded for the host or for a joining tab. */
export function secureAggregationProblem(page: PageCrypto, role: 'host' | 'client'): string | null {
  if (page.crypto?.subtle) return null;
  const where = page.location ? `${page.location.protocol}//${page.location.host}` : 'this page';
  const why = `secure aggregation needs the browser's WebCrypto, which browsers offer only on secure pages (https, or localhost), and ${where} is not one`;
  return role === 'host'
    ? `Secure aggregation is not possible on this page: ${why}. Start the app in HTTPS mode (npm run start:https) and host from its https address, or turn secure aggregation off.`
    : `This session uses secure aggregation, so this tab cannot take part: ${why}. Open the https address the host shows (the app in HTTPS mode: npm run start:https).`;
}
