import { useRef, useState, type DragEvent, memo } from 'react';
import type { LocalDataView } from '../../session/types';
import { filesFromDrop } from '../../data/pickers';
import { describeSelection } from '../file-selection';
import type { LocalFile } from '../../data/pickers';
import { useSession } from '../store';
import { InlineError } from './ErrorBanner';
import { demoDataFits, describeTask } from '../../data/task-fit';
import type { ModelSpec } from '../../fl/model-spec';
import { LabelBars } from './LabelBars';

const SOURCE_TEXT: Record<LocalDataView['source'], string> = { demo: 'demo data', own: 'your own files' };

export const LocalDataPanel = memo(function LocalDataPanel({ data, modelSpec = null }: { data: LocalDataView | null; modelSpec?: ModelSpec | null }) {
  const actions = useSession((s) => s.actions);
  const busy = useSession((s) => s.pending === 'data');
  const [dragging, setDragging] = useState(false);
  const demoUnfit = modelSpec !== null && !demoDataFits(modelSpec);
  const [lastSelection, setLastSelection] = useState<string | null>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const folderInput = useRef<HTMLInputElement>(null);

  const importList = async (files: File[] | LocalFile[]) => {
    if (files.length === 0) return;
    setLastSelection(describeSelection(files.map((f) => ('file' in f ? f.file : f))));
    await actions.importFiles(files);
  };

  const onInputChange = async (input: HTMLInputElement | null) => {
    if (!input?.files) return;
    const files = Array.from(input.files);
    input.value = '';
    await importList(files);
  };

  const onDrop = async (event: DragEvent<HTMLDivElement>) => {
    event.preventDefault();
    setDragging(false);
    // Dropped folders keep their paths (the folder names are the labels) as LocalFile entries.
    await importList(await filesFromDrop(event.dataTransfer));
  };

  return (
    <section className="panel local-data" aria-labelledby="local-data-title">
      <h2 id="local-data-title">This device: data</h2>
      {modelSpec && (
        <p className="task-line">
          This session learns from <strong>{describeTask(modelSpec)}</strong>.
        </p>
      )}
      {data ? (
        <dl className="facts">
          <dt>Source</dt>
          <dd>
            {SOURCE_TEXT[data.source]}
            {data.description && <span className="muted"> · {data.description}</span>}
          </dd>
          <dt>Training samples</dt>
          <dd className="num">{data.numSamples.toLocaleString('en-US')}</dd>
          <dt>Held-out samples</dt>
          <dd className="num">{data.numEval.toLocaleString('en-US')}</dd>
          <dt>Labels</dt>
          <dd>
            <LabelBars counts={data.labelHistogram} large />
          </dd>
        </dl>
      ) : (
        <p className="empty">No data loaded on this device yet.</p>
      )}
      {data && data.problems.length > 0 && (
        <div className="problems" role="status">
          <strong>Problems with the data:</strong>
          <ul>
            {data.problems.map((p, i) => (
              <li key={i}>{p}</li>
            ))}
          </ul>
        </div>
      )}
      <p className="privacy-note">Your samples never leave this device; only model updates and loss values do.</p>
      <div className="button-row">
        <button
          type="button"
          onClick={() => void actions.useDemoData()}
          disabled={busy || demoUnfit}
          title={demoUnfit ? 'The demo data (MNIST digits) does not fit this session’s task' : undefined}
        >
          Use demo data
        </button>
        <button type="button" onClick={() => void actions.forgetData()} disabled={busy || !data}>
          Forget my data
        </button>
      </div>
      <div className="import-row">
        <label className="file-button">
          Import CSV or .npz files
          <input ref={fileInput} type="file" multiple accept=".csv,.npz,text/csv" disabled={busy} onChange={() => void onInputChange(fileInput.current)} />
        </label>
        <label className="file-button">
          Import an image folder
          <input
            ref={(el) => {
              folderInput.current = el;
              // React has no typed prop for these non-standard attributes.
              el?.setAttribute('webkitdirectory', '');
              el?.setAttribute('directory', '');
            }}
            type="file"
            multiple
            disabled={busy}
            onChange={() => void onInputChange(folderInput.current)}
          />
        </label>
      </div>
      <div
        className={dragging ? 'drop-zone dragging' : 'drop-zone'}
        onDragOver={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={(e) => void onDrop(e)}
      >
        Or drop files or a folder here (one sub-folder per label, e.g. <code>cats/</code>, <code>dogs/</code>).
      </div>
      <InlineError source="data" />
      {busy && <p role="status">Working on the data{lastSelection ? `: ${lastSelection}` : ''}…</p>}
    </section>
  );
});
