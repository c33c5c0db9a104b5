import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildModel, cnnSpec, getWeights, tabularSpec, type ModelSpec } from '../fl/models';
import { exportModelFiles, MODEL_EXPORT_FILES } from './model-export';

let files = new Map<string, Buffer>();
const server = createServer((req, res) => {
  const body = files.get((req.url ?? '').replace(/^\//, ''));
  if (!body) {
    res.statusCode = 404;
    res.end();
    return;
  }
  res.setHeader('content-type', req.url?.endsWith('.json') ? 'application/json' : 'application/octet-stream');
  res.end(body);
});
let base = '';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

async function roundTrip(spec: ModelSpec, input: tf.Tensor) {
  const source = buildModel(spec, 7);
  const weights = await getWeights(source);
  const exported = await exportModelFiles(spec, weights, { round: 3, session: 'ABC123' });
  files = new Map([
    [MODEL_EXPORT_FILES.modelJson, Buffer.from(exported.modelJson)],
    [MODEL_EXPORT_FILES.weights, Buffer.from(exported.weightsBin)],
  ]);
  // Loaded the way a user would: over HTTP, by the stock loader.
  const loaded = await tf.loadLayersModel(`${base}/${MODEL_EXPORT_FILES.modelJson}`);
  const expected = source.predict(input) as tf.Tensor;
  const actual = loaded.predict(input) as tf.Tensor;
  const diff = tf.max(tf.abs(tf.sub(expected, actual))).dataSync()[0];
  const meta = JSON.parse(exported.modelJson).userDefinedMetadata.fedtab;
  tf.dispose([expected, actual, input]);
  source.dispose();
  loaded.dispose();
  return { diff, meta };
}

describe('exported global model', () => {
  it('a CNN loads with tf.loadLayersModel and predicts exactly what the original does', async () => {
    const { diff, meta } = await roundTrip(cnnSpec([28, 28, 1], 10), tf.randomUniform([4, 28, 28, 1], 0, 1, 'float32', 1));
    expect(diff).toBe(0);
    expect(meta).toMatchObject({ session: 'ABC123', round: 3, outputs: 'logits' });
  });

  it('so does a tabular MLP', async () => {
    const { diff } = await roundTrip(tabularSpec(6, 3), tf.randomNormal([5, 6], 0, 1, 'float32', 2));
    expect(diff).toBe(0);
  });

  it('refuses weights of another model', async () => {
    const weights = await getWeights(buildModel(tabularSpec(6, 3)));
    await expect(exportModelFiles(tabularSpec(7, 3), weights, { round: 1, session: 'X' })).rejects.toThrow();
  });
});
