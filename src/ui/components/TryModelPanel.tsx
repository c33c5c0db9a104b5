import { useEffect, useRef, useState, memo } from 'react';
import type { ModelSpec } from '../../fl/model-spec';
import type { PredictInput } from '../../worker/api';
import type { Prediction, SamplePrediction } from '../../worker/inspect';
import { errorMessage, formatPercent } from '../format';
import { useSession } from '../store';
import { DrawPad, type DrawPadHandle } from './DrawPad';

type Shown = (Prediction | SamplePrediction) & { round: number };

const isSample = (p: Shown): p is SamplePrediction & { round: number } => 'index' in p;

/** Try the current global model: draw (image tasks) or pick a held-out sample of your own data; computed in the worker. */
export const TryModelPanel = memo(function TryModelPanel({ spec, modelRound, heldOut }: { spec: ModelSpec; modelRound: number | null; heldOut: number }) {
  const controller = useSession((s) => s.controller);
  const pad = useRef<DrawPadHandle>(null);
  const [result, setResult] = useState<Shown | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const image = spec.kind !== 'tabular' && spec.inputShape.length === 3 ? (spec.inputShape as [number, number, number]) : null;

  const run = async (input: PredictInput) => {
    if (!controller?.predict) return;
    setBusy(true);
    setError(null);
    try {
      setResult(await controller.predict(input));
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };
  const predictDrawing = () => {
    if (!image) return;
    const values = pad.current?.read(image[0], image[1], image[2]);
    if (values) void run({ kind: 'values', values });
  };
  const predictSample = () => void run({ kind: 'sample', index: Math.floor(Math.random() * heldOut) });

  return (
    <section className="panel try-model" aria-labelledby="try-title">
      <h2 id="try-title">
        Try the model{modelRound !== null && <span className="muted"> · global model after round {modelRound}</span>}
      </h2>
      {modelRound === null ? (
        <p className="empty">The global model arrives with the first round.</p>
      ) : (
        <div className="try-grid">
          <div className="try-inputs">
            {image && (
              <>
                <DrawPad ref={pad} onStroke={predictDrawing} label="Draw here (white on black); the model guesses when you lift the pen" />
                <div className="button-row">
                  <button type="button" onClick={() => pad.current?.clear()}>
                    Clear
                  </button>
                </div>
              </>
            )}
            <button type="button" onClick={predictSample} disabled={busy || heldOut === 0}>
              A held-out sample of my data
            </button>
          </div>
          <div className="try-output" aria-live="polite">
            {result && isSample(result) && <SampleView sample={result} />}
            {result && <Probabilities p={result} />}
            {!result && <p className="muted">{image ? 'Draw a digit or pick a sample.' : 'Pick a sample.'}</p>}
          </div>
        </div>
      )}
      {error && (
        <p className="inline-error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
});

function Probabilities({ p }: { p: Shown }) {
  const label = isSample(p) ? p.label : null;
  return (
    <div>
      <p className="try-guess">
        The model says <strong className="big">{p.predicted}</strong>
        {label !== null && <span className={label === p.predicted ? 'tone-ok' : 'tone-problem'}> (true label {label})</span>}
      </p>
      <ol className="prob-bars" start={0} aria-label="Probability of each class">
        {p.probabilities.map((q, c) => (
          <li key={c} className={c === p.predicted ? 'predicted' : undefined}>
            <span className="prob-class">{c}</span>
            <span className="prob-bar" style={{ width: `${Math.max(0.5, q * 100)}%` }} aria-hidden="true" />
            <span className="prob-value">{formatPercent(q)}</span>
          </li>
        ))}
      </ol>
    </div>
  );
}

/** The held-out sample itself (an image drawn pixel by pixel, or the row's features). */
function SampleView({ sample }: { sample: SamplePrediction }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const img = sample.image;
    const c = canvas.current?.getContext('2d');
    if (!img || !c) return;
    const [h, w, ch] = img.shape;
    const data = c.createImageData(w, h);
    for (let i = 0; i < h * w; i++) {
      for (let k = 0; k < 3; k++) data.data[i * 4 + k] = img.pixels[i * ch + Math.min(k, ch - 1)];
      data.data[i * 4 + 3] = 255;
    }
    c.putImageData(data, 0, 0);
  }, [sample]);
  if (sample.image) return <canvas ref={canvas} className="sample-image" width={sample.image.shape[1]} height={sample.image.shape[0]} aria-label={`held-out sample ${sample.index}`} />;
  return <p className="muted">Sample {sample.index}: {sample.features?.map((f) => f.toFixed(2)).join(', ')}</p>;
}
