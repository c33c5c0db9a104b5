import { useState, type FormEvent } from 'react';
import { DISPLAY_NAME_MAX_LENGTH } from '../../session/display-name';
import { navigate } from '../hooks';
import { readDisplayName, writeDisplayName } from '../preferences';
import { useSession } from '../store';

export function JoinPage({ code, secret, aggregatorId }: { code: string; secret: string | null; aggregatorId: string | null }) {
  const join = useSession((s) => s.actions.join);
  const pending = useSession((s) => s.pending === 'join');
  const [name, setName] = useState(readDisplayName);
  const [error, setError] = useState<string | null>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const trimmed = name.trim();
    if (trimmed === '') return setError('Enter a name the others will see.');
    if (trimmed.length > DISPLAY_NAME_MAX_LENGTH) return setError(`At most ${DISPLAY_NAME_MAX_LENGTH} characters.`);
    if (secret === null) return;
    setError(null);
    writeDisplayName(trimmed);
    if (await join(code, secret, trimmed, aggregatorId ?? undefined)) navigate({ page: 'session' });
  };

  return (
    <section className="panel narrow" aria-labelledby="join-page-title">
      <h2 id="join-page-title">
        Join session <span className="session-code inline">{code}</span>
      </h2>
      {secret === null ? (
        <p className="field-error" role="alert">
          This join link has no secret (the part after "?s="). Ask the host for the whole link or scan the QR code again. <a href="#/">Back</a>
        </p>
      ) : (
        <form onSubmit={(e) => void submit(e)} noValidate>
          <div className="field">
            <label htmlFor="display-name">Your name (shown to the others)</label>
            <input
              id="display-name"
              type="text"
              autoComplete="nickname"
              maxLength={DISPLAY_NAME_MAX_LENGTH}
              value={name}
              onChange={(e) => setName(e.target.value)}
              aria-describedby={error ? 'display-name-error' : undefined}
              aria-invalid={error ? true : undefined}
              autoFocus
            />
            {error && (
              <p id="display-name-error" className="field-error">
                {error}
              </p>
            )}
          </div>
          <p className="muted">Your data stays on this device. You can use the demo data or your own files after joining.</p>
          <button type="submit" className="primary big-button" disabled={pending}>
            {pending ? 'Joining…' : 'Join'}
          </button>
        </form>
      )}
    </section>
  );
}
