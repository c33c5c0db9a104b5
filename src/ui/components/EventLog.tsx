import { memo } from 'react';
import type { LogEntry } from '../../session/types';
import { entryText, latestEntries } from '../log-view';
import { formatClock } from '../format';

export const EventLog = memo(function EventLog({ log }: { log: LogEntry[] }) {
  const entries = latestEntries(log);
  return (
    <section className="panel log" aria-labelledby="log-title">
      <h2 id="log-title">
        Event log <span className="muted">(newest first{log.length > entries.length ? `, last ${entries.length} of ${log.length}` : ''})</span>
      </h2>
      {entries.length === 0 ? (
        <p className="empty">Nothing yet.</p>
      ) : (
        <ol className="log-list" aria-live="polite">
          {entries.map((e, i) => (
            <li key={`${e.time}-${log.length - i}`} className={`log-${e.level}`}>
              <time dateTime={new Date(e.time).toISOString()}>{formatClock(e.time)}</time>
              {e.level !== 'info' && <span className="log-level">{e.level}</span>}
              <span className="log-text">{entryText(e)}</span>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
});
