import { memo } from 'react';
import type { SessionState } from '../../session/types';
import { UI_CONFIG } from '../config';
import { useProjector } from '../hooks';
import { joinLinks } from '../join-links';
import { formatSecret } from '../../session/session-code';
import { addressToType } from '../peers-summary';
import { CopyField } from './CopyField';
import { QrCode } from './QrCode';

function safeJoinLinks(joinUrl: string, lanUrls: string[]) {
  try {
    return joinLinks(joinUrl, lanUrls);
  } catch {
    return { primary: joinUrl, lan: [], loopbackOnly: false, secret: null };
  }
}

/** How others join: QR code, link, LAN addresses. `compact`: QR and link only (the projector's side column). */
export const JoinPanel = memo(function JoinPanel({ joinUrl, lanUrls, code, compact = false }: Pick<SessionState, 'joinUrl' | 'lanUrls' | 'code'> & { compact?: boolean }) {
  const state = { joinUrl, lanUrls, code };
  const projector = useProjector();
  const links = state.joinUrl ? safeJoinLinks(state.joinUrl, state.lanUrls) : null;
  if (!links) {
    if (state.lanUrls.length === 0) return null;
    return (
      <section className="panel join" aria-label="Join">
        <div className="lan-urls">
          <span className="label">This app on the network:</span>
          <ul>
            {state.lanUrls.map((url) => (
              <li key={url}>
                <a href={url}>{url}</a>
              </li>
            ))}
          </ul>
        </div>
      </section>
    );
  }
  return (
    <section className={compact ? 'panel join compact' : 'panel join'} aria-labelledby="join-title">
      <h2 id="join-title">
        Join: code <span className="session-code inline">{state.code}</span>
      </h2>
      <div className="join-grid">
        <div className="qr-block">
          <QrCode text={links.primary} size={projector ? UI_CONFIG.qr.projectorSize : UI_CONFIG.qr.size} label="QR code of the join link" />
          <span className="muted">Scan to join</span>
        </div>
        {compact && (
          // On the projector the passphrase stays visible, and the address to type for a laptop that cannot scan.
          <div className="type-block">
            {links.secret && (
              <p className="secret">
                passphrase <code>{formatSecret(links.secret)}</code>
              </p>
            )}
            <p className="type-address">
              or open <code data-testid="address-to-type">{addressToType(links.primary)}</code> and type the code{links.secret ? ' and passphrase' : ''}
            </p>
          </div>
        )}
        {!compact && (
          <div className="join-block">
            <CopyField id="join-url" label="Join link (send it, or scan the QR code)" value={links.primary} />
            {links.secret && (
              <p className="secret">
                passphrase <code>{formatSecret(links.secret)}</code> (to type with the code on a phone)
              </p>
            )}
            {links.loopbackOnly && (
              <p className="warn-text">This link points at this machine only (localhost): other devices need one of the LAN addresses.</p>
            )}
            {links.lan.length > 0 && (
              <div className="lan-urls">
                <span className="label">Open on other devices in this network:</span>
                <ul>
                  {links.lan.map((url) => (
                    <li key={url}>
                      <a href={url}>{url}</a>
                    </li>
                  ))}
                </ul>
              </div>
            )}
          </div>
        )}
      </div>
    </section>
  );
});
