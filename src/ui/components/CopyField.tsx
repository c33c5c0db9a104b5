import { useEffect, useRef, useState } from 'react';
import { UI_CONFIG } from '../config';

type CopyState = 'idle' | 'copied' | 'failed';

/** A read-only text field with a Copy button. Falls back to selecting the text where the clipboard API is missing (plain-http LAN pages). */
export function CopyField({ id, label, value }: { id: string; label: string; value: string }) {
  const input = useRef<HTMLInputElement>(null);
  const [state, setState] = useState<CopyState>('idle');
  useEffect(() => {
    if (state === 'idle') return;
    const timer = setTimeout(() => setState('idle'), UI_CONFIG.copiedFeedbackMs);
    return () => clearTimeout(timer);
  }, [state]);

  const copy = async () => {
    try {
      if (!navigator.clipboard) throw new Error('no clipboard API');
      await navigator.clipboard.writeText(value);
      setState('copied');
    } catch {
      input.current?.select();
      // Deprecated but the only way without the async clipboard API (insecure contexts).
      const ok = document.execCommand?.('copy') ?? false;
      setState(ok ? 'copied' : 'failed');
    }
  };

  return (
    <div className="copy-field">
      <label htmlFor={id}>{label}</label>
      <div className="copy-row">
        <input id={id} ref={input} type="text" readOnly value={value} onFocus={(e) => e.currentTarget.select()} />
        <button type="button" onClick={() => void copy()}>
          {state === 'copied' ? 'Copied' : state === 'failed' ? 'Select + Ctrl+C' : 'Copy'}
        </button>
      </div>
    </div>
  );
}
