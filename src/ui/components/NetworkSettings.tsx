import { useState } from 'react';
import { parseIceServers } from '../../net/ice-config';
import { readIceServers, writeIceServers } from '../preferences';

/** Where this browser finds STUN/TURN servers. Kept in localStorage; used the next time it hosts or joins. */
export function NetworkSettings() {
  const [text, setText] = useState(readIceServers);
  const [status, setStatus] = useState<{ ok: boolean; text: string } | null>(null);

  const save = () => {
    try {
      const servers = parseIceServers(text);
      writeIceServers(text);
      setStatus({ ok: true, text: servers.length ? `Saved ${servers.length} server(s).` : 'Saved: LAN only, no ICE servers.' });
    } catch (e) {
      setStatus({ ok: false, text: e instanceof Error ? e.message : String(e) });
    }
  };

  return (
    <details className="panel network-settings">
      <summary>Network settings (sessions across networks)</summary>
      <p>
        On one LAN nothing is needed. Across networks, give STUN/TURN servers, one per line, e.g. <code>stun:stun.example.org:3478</code> or{' '}
        <code>turn:USER:PASSWORD@turn.example.org:3478</code>. Every participant needs the same setting.
      </p>
      <div className="field">
        <label htmlFor="ice-servers">STUN/TURN servers</label>
        <textarea id="ice-servers" rows={3} spellCheck={false} value={text} onChange={(e) => setText(e.target.value)} />
      </div>
      <button type="button" onClick={save}>
        Save network settings
      </button>
      {status && (
        <p className={status.ok ? 'note' : 'field-error'} role="status">
          {status.text}
        </p>
      )}
    </details>
  );
}
