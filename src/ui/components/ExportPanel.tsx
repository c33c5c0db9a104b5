import type { SessionState } from '../../session/types';
import { exportFileName, metricsCsv, partitionCsv, runResultJson } from '../../session/run-export';
import { MODEL_EXPORT_FILES } from '../../worker/model-files';
import { download } from '../download';
import { errorMessage } from '../format';
import { useSession } from '../store';
import { InlineError } from './ErrorBanner';
import { useState } from 'react';

/** Take it home: the global model (TensorFlow.js files), the metrics (CSV, JSON in the simulator's schema), the partition. */
export function ExportPanel({ state }: { state: SessionState }) {
  const exportModel = useSession((s) => s.actions.exportModel);
  const busy = useSession((s) => s.pending === 'export');
  const [jsonError, setJsonError] = useState<string | null>(null);
  const hasRounds = state.rounds.length > 0;
  const hasPartition = state.peers.some((p) => p.numSamples > 0);
  const modelRound = state.globalModelRound ?? null;

  const saveJson = () => {
    setJsonError(null);
    try {
      if (!state.modelSpec) throw new Error('the session model is not known yet');
      const json = runResultJson({ ...state, modelSpec: state.modelSpec });
      download(exportFileName(state.code, 'metrics.json'), JSON.stringify(json, null, 2), 'application/json');
    } catch (e) {
      setJsonError(errorMessage(e));
    }
  };

  return (
    <section className="panel export" aria-labelledby="export-title">
      <h2 id="export-title">Take it home</h2>
      <div className="export-list">
        <button
          type="button"
          disabled={busy || modelRound === null}
          onClick={() =>
            void exportModel((files) => {
              download(MODEL_EXPORT_FILES.modelJson, files.modelJson, 'application/json');
              download(MODEL_EXPORT_FILES.weights, files.weightsBin, 'application/octet-stream');
            })
          }
        >
          {busy ? 'Preparing the model…' : `Global model${modelRound !== null ? ` after round ${modelRound}` : ''} (TensorFlow.js)`}
        </button>
        <button type="button" disabled={!hasRounds} onClick={() => download(exportFileName(state.code, 'metrics.csv'), metricsCsv(state.rounds), 'text/csv')}>
          Metrics as CSV
        </button>
        <button type="button" disabled={!hasRounds} onClick={saveJson}>
          Metrics as JSON (simulator schema)
        </button>
        <button type="button" disabled={!hasPartition} onClick={() => download(exportFileName(state.code, 'partition.csv'), partitionCsv(state.peers), 'text/csv')}>
          Label counts per peer (CSV)
        </button>
      </div>
      <p className="note">
        The model is saved as <code>model.json</code> + <code>weights.bin</code>; keep them together and load with <code>tf.loadLayersModel</code>. It outputs logits
        (apply a softmax for probabilities).
        {modelRound === null ? ' This tab receives a global model with the first round.' : ''}
        {!state.isAggregator && hasRounds ? ' Timings and per-peer counts are known to the aggregating tab only.' : ''}
      </p>
      {jsonError && (
        <p className="inline-error" role="alert">
          {jsonError}
        </p>
      )}
      <InlineError source="export" />
    </section>
  );
}
