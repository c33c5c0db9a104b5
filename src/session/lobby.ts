import { PROTOCOL_VERSION } from '../fl/protocol';
import type { SessionTransport } from './session-transport';

/** Where a lobby sends joiners: the tab that aggregates now, and its term. */
export interface LobbyTarget {
  aggregatorId: string;
  term: number;
}

/** The session's well-known host id, registered by a tab that is not its first owner. */
export interface LobbyTransport extends SessionTransport {
  close(): void;
}

export interface LobbyKeeperOptions {
  /**
   * Registers the session's well-known host id and returns a transport behind the join handshake (in the app an
   * AuthenticatedTransport over a second PeerJS peer); rejects while the id is taken.
   */
  open: () => Promise<LobbyTransport>;
  /** Where joiners go now, or null when this tab should hold no lobby (it does not aggregate, or holds the id itself). */
  target: () => LobbyTarget | null;
  /** Wait before trying again to register the id (e.g. the old host's registration has not expired yet). */
  retryMs: number;
  log?: (level: 'info' | 'warn', text: string) => void;
}

export const LOBBY_RETRY_MS = 5_000;

/**
 * Keeps the session's original code, link and QR code working after a handover: while this tab aggregates under
 * an id other than the host's, it also holds the host's id, and answers every hello there with a redirect to
 * itself. Only peers that passed the join handshake reach it (the transport from `open` authenticates), so a
 * redirect never goes to a stranger. Call update() whenever the node's state changes.
 */
export class LobbyKeeper {
  private lobby: LobbyTransport | null = null;
  private opening = false;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private unsubscribe: Array<() => void> = [];
  private closed = false;

  constructor(private readonly o: LobbyKeeperOptions) {}

  get isOpen(): boolean {
    return this.lobby !== null;
  }

  update(): void {
    if (this.closed) return;
    if (!this.o.target()) return this.release();
    if (this.lobby || this.opening || this.retryTimer !== undefined) return;
    this.opening = true;
    this.o.open().then(
      (lobby) => {
        this.opening = false;
        if (this.closed || !this.o.target()) return lobby.close();
        this.lobby = lobby;
        this.unsubscribe = [lobby.onMessage((from, m) => m.type === 'hello' && this.redirect(from))];
        this.o.log?.('info', "this tab now also answers the session's original link and code");
      },
      () => {
        this.opening = false;
        if (this.closed) return;
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          this.update();
        }, this.o.retryMs);
      },
    );
  }

  private redirect(to: string): void {
    const target = this.o.target();
    if (target) this.lobby?.send(to, { type: 'redirect', v: PROTOCOL_VERSION, term: target.term, aggregatorId: target.aggregatorId });
  }

  private release(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.unsubscribe.forEach((u) => u());
    this.unsubscribe = [];
    this.lobby?.close();
    this.lobby = null;
  }

  close(): void {
    this.release();
    this.closed = true;
  }
}
