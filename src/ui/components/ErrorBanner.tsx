import { useSession } from '../store';

/** The visible error area: the session's own error and the last failed action. */
export function ErrorBanner() {
  const sessionError = useSession((s) => s.error);
  const rawActionError = useSession((s) => s.actionError);
  // A failed host/join sets both to the same message: say it once.
  const actionError = rawActionError === sessionError ? null : rawActionError;
  const dismiss = useSession((s) => s.actions.dismissError);
  if (!sessionError && !actionError) return null;
  return (
    <div className="error-banner" role="alert">
      {sessionError && (
        <p>
          <strong>Session error:</strong> {sessionError}
        </p>
      )}
      {actionError && (
        <p>
          <strong>That did not work:</strong> {actionError}{' '}
          <button type="button" className="link-button" onClick={dismiss}>
            Dismiss
          </button>
        </p>
      )}
    </div>
  );
}
