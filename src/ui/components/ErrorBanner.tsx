import { useSession } from '../store';

/**
 * The banner for errors that belong to no panel: the session's own error and failed session actions (host, join,
 * start, stop). Data and backend errors are shown in their panels (InlineError). Every message can be dismissed.
 */
export function ErrorBanner() {
  const sessionError = useSession((s) => s.error);
  const source = useSession((s) => s.actionErrorSource);
  const rawActionError = useSession((s) => s.actionError);
  const inPanel = source === 'data' || source === 'backend' || source === 'export';
  // A failed host/join sets both to the same message: say it once.
  const actionError = rawActionError === sessionError || inPanel ? null : rawActionError;
  const dismiss = useSession((s) => s.actions.dismissError);
  const dismissSession = useSession((s) => s.actions.dismissSessionError);
  if (!sessionError && !actionError) return null;
  return (
    <div className="error-banner" role="alert">
      {sessionError && (
        <p>
          <strong>Session error:</strong> {sessionError}{' '}
          <button
            type="button"
            className="link-button"
            onClick={() => {
              dismissSession();
              if (rawActionError === sessionError) dismiss();
            }}
          >
            Dismiss
          </button>
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

/** The last failed action of one kind, shown inside the panel where it was started. */
export function InlineError({ source }: { source: 'data' | 'backend' | 'export' }) {
  const error = useSession((s) => (s.actionErrorSource === source ? s.actionError : null));
  const dismiss = useSession((s) => s.actions.dismissError);
  if (!error) return null;
  return (
    <div className="inline-error" role="alert">
      <p>{error}</p>
      <button type="button" className="link-button" onClick={dismiss}>
        Dismiss
      </button>
    </div>
  );
}
