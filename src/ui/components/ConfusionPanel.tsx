import { useState, memo } from 'react';
import type { ConfusionResult } from '../../worker/inspect';
import { errorMessage, formatPercent } from '../format';
import { useSession } from '../store';

/** Aggregating tab: per-class accuracy and the confusion matrix of the global model on its test set (validation worker). */
export const ConfusionPanel = memo(function ConfusionPanel({ modelRound }: { modelRound: number | null }) {
  const controller = useSession((s) => s.controller);
  const [result, setResult] = useState<(ConfusionResult & { round: number }) | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const compute = async () => {
    if (!controller?.confusion) return;
    setBusy(true);
    setError(null);
    try {
      setResult(await controller.confusion());
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };
  const max = result ? Math.max(1, ...result.matrix.flat()) : 1;
  return (
    <section className="panel confusion" aria-labelledby="confusion-title">
      <h2 id="confusion-title">Per class{result && <span className="muted"> · global model after round {result.round}, {result.numSamples.toLocaleString('en-US')} test samples</span>}</h2>
      <button type="button" onClick={() => void compute()} disabled={busy || modelRound === null}>
        {busy ? 'Computing…' : result && result.round !== modelRound ? `Update to round ${modelRound}` : 'Per-class accuracy and confusion matrix'}
      </button>
      {error && (
        <p className="inline-error" role="alert">
          {error}
        </p>
      )}
      {result && (
        <div className="table-scroll" tabIndex={0} role="region" aria-label="Confusion matrix">
          <table className="confusion-table">
            <caption>Rows: true class · columns: predicted class</caption>
            <thead>
              <tr>
                <th scope="col">class</th>
                {result.matrix.map((_, c) => (
                  <th key={c} scope="col">
                    {c}
                  </th>
                ))}
                <th scope="col">accuracy</th>
              </tr>
            </thead>
            <tbody>
              {result.matrix.map((row, t) => (
                <tr key={t}>
                  <th scope="row">{t}</th>
                  {row.map((n, p) => (
                    <td key={p} className={t === p ? 'diag num' : 'num'} style={{ background: n > 0 ? `rgba(0, 114, 178, ${(0.08 + 0.6 * n / max).toFixed(3)})` : undefined }}>
                      {n}
                    </td>
                  ))}
                  <td className="num strong">{formatPercent(result.perClassAccuracy[t])}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
});
