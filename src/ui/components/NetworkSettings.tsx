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
      setStatus({ ok: true, text: servers.length ? `Saved ${servers.length} server(s), used beside the app's relay.` : "Saved: the app's own relay only." });
    } catch (e) {
      setStatus({ ok: false, text: e instanceof Error ? e.message : String(e) });
    }
  };

  return (
    <details className="panel network-settings">
      <summary>Network settings (extra STUN/TURN servers)</summary>
      <p>
        Nothing is needed: tabs connect directly where they can, and through the relay of the server this page comes from where the network
        keeps devices apart. To add servers of your own, give them one per line, e.g. <code>stun:stun.example.org:3478</code> or{' '}
        <code>turn:USER:PASSWORD@turn.example.org:3478</code>.
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
