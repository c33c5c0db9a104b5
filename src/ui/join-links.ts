/**
 * Which join link to show and encode in the QR code. A link on localhost only works on the host's own machine, so
 * when the session's link is a loopback one and the server reported LAN addresses, the LAN version is the one to
 * scan; every LAN address gets its own link.
 */
import { parseRoute } from './routes';

export interface JoinLinks {
  /** The link for the QR code and the copy button. */
  primary: string;
  /** The same join link on each LAN address (may include primary). */
  lan: string[];
  /** True when the primary link only works on this machine. */
  loopbackOnly: boolean;
  /** Secret of the link, shown next to the code for people who type instead of scanning. */
  secret: string | null;
}

export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h.endsWith('.localhost') || h.startsWith('127.') || h === '::1' || h === '::ffff:127.0.0.1';
}

/** `link`'s query and hash on `base`'s origin and path. */
export function rebaseLink(link: string, base: string): string {
  const from = new URL(link);
  const to = new URL(base);
  to.search = from.search;
  to.hash = from.hash;
  return to.toString();
}

export function joinLinks(joinUrl: string, lanUrls: readonly string[]): JoinLinks {
  let url: URL;
  try {
    url = new URL(joinUrl);
  } catch {
    throw new Error(`the session's join link is not a valid URL: "${joinUrl}"`);
  }
  const route = parseRoute(url.hash);
  const secret = route.page === 'join' ? route.secret : null;
  const lan: string[] = [];
  for (const base of lanUrls) {
    try {
      const rebased = rebaseLink(joinUrl, base);
      if (!lan.includes(rebased)) lan.push(rebased);
    } catch {
      // A malformed LAN URL from the server is skipped; the others still help.
    }
  }
  const loopback = isLoopbackHost(url.hostname);
  if (loopback && lan.length > 0) return { primary: lan[0], lan, loopbackOnly: false, secret };
  return { primary: url.toString(), lan, loopbackOnly: loopback, secret };
}
