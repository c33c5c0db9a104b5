import { navigate } from '../hooks';
import { useSession } from '../store';

/**
 * After a reload: a client tab rejoining its session by itself says so (with a Cancel); otherwise, and when that
 * failed or was cancelled, the offer to resume the session this tab was in (its code, secret and key are kept in
 * this tab's storage). A tab that aggregated the session, its host or a client that took over from the host (the
 * session's host now), is offered to resume it as its host.
 */
export function ResumeOffer() {
  const status = useSession((s) => s.status);
  const rejoining = useSession((s) => s.rejoining);
  const controller = useSession((s) => s.controller);
  const resume = useSession((s) => s.actions.resume);
  const cancelRejoin = useSession((s) => s.actions.cancelRejoin);
  const pending = useSession((s) => s.pending);
  if (rejoining) {
    return (
      <p className="note" role="status">
        Rejoining session {rejoining.code}…{' '}
        <button type="button" onClick={() => cancelRejoin()}>
          Cancel
        </button>
      </p>
    );
  }
  const resumable = status === 'idle' ? (controller?.resumable?.() ?? null) : null;
  if (!resumable) return null;
  return (
    <p className="note">
      This tab was in session {resumable.code} {resumable.role === 'host' ? 'as its host' : 'as a client'}.{' '}
      <button type="button" className="primary" disabled={pending === 'join'} onClick={() => void resume().then((ok) => ok && navigate({ page: 'session' }))}>
        {resumable.role === 'host' ? `Resume session ${resumable.code}` : `Rejoin session ${resumable.code}`}
      </button>
    </p>
  );
}
