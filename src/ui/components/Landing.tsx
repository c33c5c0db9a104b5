import { useState, type FormEvent } from 'react';
import { navigate } from '../hooks';
import { parseJoinInput } from '../routes';
import { inSession } from '../session-view';
import { useSession } from '../store';
import { NetworkSettings } from './NetworkSettings';
import { ResumeOffer } from './ResumeOffer';

export function Landing() {
  const status = useSession((s) => s.status);
  const [linkOrCode, setLinkOrCode] = useState('');
  const [secret, setSecret] = useState('');
  const [error, setError] = useState<string | null>(null);
  const looksLikeLink = linkOrCode.includes('#') || linkOrCode.includes('/');

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const parsed = parseJoinInput(linkOrCode, secret);
    if (!parsed.ok) {
      setError(parsed.error);
      return;
    }
    setError(null);
    navigate({ page: 'join', code: parsed.code, secret: parsed.secret, aggregatorId: parsed.aggregatorId });
  };

  return (
    <div className="landing">
      <p className="lead">
        Train one model together without sharing data: every browser tab trains on its own data, and only model updates travel.
      </p>
      <ResumeOffer />
      {inSession(status) && (
        <p className="note">
          This tab is in a session. <a href="#/session">Back to the dashboard</a>
        </p>
      )}
      <div className="two-columns">
        <section className="panel" aria-labelledby="host-title">
          <h2 id="host-title">Host a session</h2>
          <p>Choose the model and the algorithm, then share the join link or QR code. Your tab aggregates the updates.</p>
          <a className="button primary big-button" href="#/host">
            Host a session
          </a>
        </section>
        <section className="panel" aria-labelledby="join-title">
          <h2 id="join-title">Join with a code</h2>
          <form onSubmit={submit} noValidate>
            <div className="field">
              <label htmlFor="join-link">Join link or session code</label>
              <input
                id="join-link"
                type="text"
                autoComplete="off"
                autoCapitalize="off"
                spellCheck={false}
                value={linkOrCode}
                onChange={(e) => setLinkOrCode(e.target.value)}
                aria-describedby={error ? 'join-error' : undefined}
              />
            </div>
            {!looksLikeLink && (
              <div className="field">
                <label htmlFor="join-secret">Passphrase (shown beside the code)</label>
                <input id="join-secret" type="text" autoComplete="off" autoCapitalize="off" spellCheck={false} value={secret} onChange={(e) => setSecret(e.target.value)} />
              </div>
            )}
            {error && (
              <p id="join-error" className="field-error" role="alert">
                {error}
              </p>
            )}
            <button type="submit" className="primary big-button">
              Continue
            </button>
          </form>
        </section>
      </div>
      <NetworkSettings />
    </div>
  );
}
