import { describe, expect, it } from 'vitest';
import { CLIENT_KEY_MAX_LENGTH, PROTOCOL_VERSION, WELCOME_HISTORY_MAX, type Message, type RoundStartMessage, type UpdateMessage } from '../protocol';
import { layoutOf } from '../weights';
import { wireLimits } from './limits';
import { randomWeights, sampleMessages } from './test-messages';
import { checkUpdateAgainstLayout, markValidated, validateMessage, wasValidated } from './validate';

const byType = <T extends Message['type']>(type: T) =>
  sampleMessages().find((m) => m.type === type) as Extract<Message, { type: T }>;

/** The reason validateMessage gives for `x`; fails the test when x is accepted. */
function reasonFor(x: unknown, limits = wireLimits()): string {
  const result = validateMessage(x, limits);
  if (result.ok) throw new Error(`accepted: ${JSON.stringify(x)}`);
  return result.reason;
}

describe('validateMessage', () => {
  it('marks what it returns as validated; a structured clone of it only once markValidated says so', () => {
    const result = validateMessage(byType('update'));
    if (!result.ok) throw new Error(result.reason);
    expect(wasValidated(result.message)).toBe(true);
    expect(wasValidated(byType('update'))).toBe(false);
    const cloned = structuredClone(result.message);
    expect(wasValidated(cloned)).toBe(false);
    markValidated(cloned);
    expect(wasValidated(cloned)).toBe(true);
  });

  it('accepts one valid message of every type and returns equal data', () => {
    for (const m of sampleMessages()) {
      const result = validateMessage(m);
      expect(result.ok, result.ok ? '' : result.reason).toBe(true);
      if (result.ok) expect(result.message).toEqual(m);
    }
  });

  it('drops unknown fields, including a join secret a hello must no longer carry', () => {
    const hello = byType('hello');
    const result = validateMessage({ ...hello, extra: 'x', __debug: { a: 1 }, secret: 's3cr3t' });
    expect(result.ok && result.message).toEqual(hello);
    expect(result.ok && 'secret' in result.message).toBe(false);
  });

  it('bounds the client key of a hello, the history of a welcome, and checks a redirect', () => {
    const welcome = byType('welcome');
    const hello = { ...byType('hello'), clientKey: 'k' };
    expect(validateMessage(hello).ok).toBe(true);
    expect(reasonFor({ ...hello, clientKey: 'k'.repeat(CLIENT_KEY_MAX_LENGTH + 1) })).toMatch(/hello.clientKey/);
    expect(reasonFor({ ...hello, clientKey: 7 })).toMatch(/hello.clientKey/);
    const round = { round: 1, accuracy: 0.5, loss: 1, decomposition: null, participantCount: 2 };
    expect(validateMessage({ ...welcome, history: [round] }).ok).toBe(true);
    expect(reasonFor({ ...welcome, history: Array.from({ length: WELCOME_HISTORY_MAX + 1 }, () => round) })).toMatch(/welcome.history/);
    expect(reasonFor({ ...welcome, history: [{ ...round, accuracy: 2 }] })).toMatch(/welcome.history\[0\].accuracy/);
    expect(reasonFor({ ...welcome, history: [{ ...round, decomposition: { local: 1 } }] })).toMatch(/welcome.history\[0\].decomposition.shift/);
    expect(reasonFor({ type: 'redirect', v: PROTOCOL_VERSION, term: 2 })).toMatch(/redirect.aggregatorId/);
    expect(reasonFor({ type: 'redirect', v: PROTOCOL_VERSION, term: -1, aggregatorId: 'p' })).toMatch(/redirect.term/);
  });

  it('accepts auth nonces and proofs only as fixed-length lowercase hex', () => {
    const hello = byType('auth-hello');
    const challenge = byType('auth-challenge');
    const proof = byType('auth-proof');
    expect(reasonFor({ ...hello, nonce: hello.nonce.slice(1) })).toMatch(/auth-hello.nonce: expected 32 lowercase hex characters/);
    expect(reasonFor({ ...hello, nonce: 'G'.repeat(32) })).toMatch(/auth-hello.nonce: expected 32 lowercase hex/);
    expect(reasonFor({ ...hello, nonce: 'a'.repeat(100_000) })).toMatch(/auth-hello.nonce/);
    expect(reasonFor({ ...challenge, proof: challenge.proof + '0' })).toMatch(/auth-challenge.proof: expected 64 lowercase hex/);
    expect(reasonFor({ ...challenge, nonce: 7 })).toMatch(/auth-challenge.nonce: expected a string, got 7/);
    expect(reasonFor({ type: 'auth-proof', v: PROTOCOL_VERSION })).toMatch(/auth-proof.proof: expected a string/);
    const extra = validateMessage({ ...proof, secret: 'x' });
    expect(extra.ok && extra.message).toEqual(proof);
  });

  it('rejects non-objects, unknown types and unknown protocol versions with a reason', () => {
    expect(reasonFor(null)).toMatch(/expected an object, got null/);
    expect(reasonFor([1])).toMatch(/got an array/);
    expect(reasonFor({ type: 'hack', v: PROTOCOL_VERSION })).toMatch(/unknown message type "hack"/);
    expect(reasonFor({ ...byType('bye'), v: PROTOCOL_VERSION + 1 })).toMatch(
      new RegExp(`bye.v: unsupported protocol version ${PROTOCOL_VERSION + 1}`),
    );
    expect(reasonFor({ type: 'bye', reason: 'x' })).toMatch(/unsupported protocol version undefined/);
    const hostile = reasonFor({ type: 'x'.repeat(100_000), v: PROTOCOL_VERSION });
    expect(hostile).toMatch(/^message.type: unknown message type "x+\.\.\.$/);
    expect(hostile.length).toBeLessThan(100);
  });

  it('requires the term on session messages and checks it (and the server state) where present', () => {
    const { term: _t, ...rosterWithoutTerm } = byType('roster');
    expect(reasonFor(rosterWithoutTerm)).toMatch(/roster.term: expected an integer/);
    expect(reasonFor({ ...byType('round-start'), term: -2 })).toMatch(/round-start.term: -2 is outside/);
    const { term: _r, ...roundStartWithoutTerm } = byType('round-start') as RoundStartMessage & { term?: number };
    expect(validateMessage(roundStartWithoutTerm).ok).toBe(true);
    expect(reasonFor({ ...byType('vote'), granted: 'yes' })).toMatch(/vote.granted: expected true or false/);
    const checkpoint = sampleMessages().find((m) => m.type === 'checkpoint' && m.serverState !== null) as Extract<Message, { type: 'checkpoint' }>;
    const state = checkpoint.serverState!;
    expect(reasonFor({ ...checkpoint, serverState: { ...state, values: { lambda: Infinity } } })).toMatch(/checkpoint.serverState.values.lambda: expected a finite number/);
    expect(reasonFor({ ...checkpoint, serverState: { ...state, tensors: { history: [{ name: 'a', shape: [2], values: new Float32Array(3) }] } } })).toMatch(
      /checkpoint.serverState.tensors.history\[0\] "a": shape \[2\] holds 2 values but 3 were sent/,
    );
    expect(reasonFor({ ...checkpoint, serverState: undefined })).toMatch(/checkpoint.serverState: expected an object/);
  });

  it('rejects bad numbers: negative or fractional rounds and counts, non-finite metrics', () => {
    const update = byType('update');
    expect(reasonFor({ ...update, assignment: -1 })).toMatch(/update.assignment: -1 is outside/);
    expect(reasonFor({ ...update, assignment: 1.5 })).toMatch(/update.assignment: expected an integer, got 1.5/);
    expect(reasonFor({ ...update, numSamples: '600' })).toMatch(/update.numSamples: expected an integer, got a string/);
    expect(reasonFor({ ...update, metrics: { ...update.metrics, evalLoss: NaN } })).toMatch(/update.metrics.evalLoss: expected a finite number, got NaN/);
    expect(reasonFor({ ...update, metrics: { ...update.metrics, evalAccuracy: 1.2 } })).toMatch(/evalAccuracy: 1.2 is outside \[0, 1\]/);
    const rs = byType('round-result');
    expect(reasonFor({ ...rs, loss: Infinity })).toMatch(/round-result.loss: expected a finite number/);
    expect(reasonFor({ ...byType('eval-result'), losses: [1, -Infinity] })).toMatch(/losses\[1\]/);
    const progress = byType('progress');
    expect(validateMessage({ ...progress, fraction: 0 }).ok).toBe(true);
    expect(validateMessage({ ...progress, fraction: 1 }).ok).toBe(true);
    expect(reasonFor({ ...progress, fraction: NaN })).toMatch(/progress.fraction: expected a finite number, got NaN/);
    expect(reasonFor({ ...progress, fraction: 1.01 })).toMatch(/progress.fraction: 1.01 is outside \[0, 1\]/);
    expect(reasonFor({ ...progress, fraction: -0.5 })).toMatch(/progress.fraction/);
    expect(reasonFor({ ...progress, assignment: -1 })).toMatch(/progress.assignment/);
    expect(reasonFor({ type: 'progress', v: PROTOCOL_VERSION, assignment: 1 })).toMatch(/progress.fraction/);
    const start = byType('round-start');
    expect(reasonFor({ ...start, train: { ...start.train, batchSize: 0 } })).toMatch(/train.batchSize: 0 is outside/);
    expect(reasonFor({ ...start, train: { ...start.train, learningRate: 0 } })).toMatch(/learningRate/);
  });

  it('rejects NaN/Infinity in weights, naming the tensor and index', () => {
    const start = byType('round-start');
    const weights = start.weights.map((t) => ({ ...t, values: new Float32Array(t.values) }));
    weights[2].values[17] = NaN;
    expect(reasonFor({ ...start, weights })).toBe('round-start.weights[2] "logits/kernel": non-finite value NaN at index 17');
    weights[2].values[17] = 0;
    weights[3].values[0] = -Infinity;
    expect(reasonFor({ ...start, weights })).toMatch(/weights\[3\] "logits\/bias": non-finite value -Infinity at index 0/);
  });

  it('rejects tensors whose shape product differs from the value count, or with bad shapes', () => {
    const update = byType('update');
    const t = update.delta[1];
    expect(reasonFor({ ...update, delta: [update.delta[0], { ...t, shape: [65] }] })).toMatch(
      /update.delta\[1\] "fc1\/bias": shape \[65\] holds 65 values but 64 were sent/,
    );
    expect(reasonFor({ ...update, delta: [{ ...t, shape: [-64] }] })).toMatch(/shape\[0\]: -64 is outside/);
    expect(reasonFor({ ...update, delta: [{ ...t, shape: [8, 8.5] }] })).toMatch(/expected an integer, got 8.5/);
    expect(reasonFor({ ...update, delta: [{ ...t, values: Array.from(t.values) }] })).toMatch(/expected a Float32Array/);
    expect(reasonFor({ ...update, delta: [t, t] })).toMatch(/tensor name "fc1\/bias" appears twice/);
    expect(reasonFor({ ...update, delta: [{ ...t, name: '' }] })).toMatch(/empty tensor name/);
    expect(reasonFor({ ...update, delta: [{ ...t, shape: [1, 1, 1, 1, 1, 1, 1, 1, 64] }] })).toMatch(/array of 9 entries exceeds 8/);
  });

  it('rejects bad label histograms and unbounded strings and arrays', () => {
    const hello = byType('hello');
    expect(reasonFor({ ...hello, labelHistogram: [3, -1] })).toMatch(/hello.labelHistogram\[1\]: -1 is outside/);
    expect(reasonFor({ ...hello, labelHistogram: [0.5] })).toMatch(/labelHistogram\[0\]: expected an integer/);
    expect(reasonFor({ ...hello, clientName: 'x'.repeat(2000) })).toMatch(/hello.clientName: string of 2000 characters exceeds 1024/);
    expect(reasonFor({ ...hello, labelHistogram: new Array(11).fill(1) }, wireLimits({ maxClasses: 10 }))).toMatch(/array of 11 entries exceeds 10/);
    const req = byType('eval-request');
    expect(reasonFor({ ...req, models: [[], [], []] }, wireLimits({ maxModelsPerEvalRequest: 2 }))).toMatch(/eval-request.models: array of 3/);
    expect(reasonFor({ ...req, requestId: '' })).toMatch(/empty request id/);
  });

  it('checks ModelSpec and StrategyConfig shapes', () => {
    const start = byType('round-start') as Extract<Message, { type: 'round-start' }>;
    expect(reasonFor({ ...start, model: { kind: 'rnn', numClasses: 10 } })).toMatch(/round-start.model.kind: unknown model kind "rnn"/);
    expect(reasonFor({ ...start, model: { ...start.model, hidden: [64, 0] } })).toMatch(/model.hidden\[1\]: 0 is outside/);
    expect(reasonFor({ ...start, model: { ...start.model, numClasses: 1 } })).toMatch(/numClasses: 1 is outside/);
    const cnn = { kind: 'cnn', inputShape: [28, 28], filters: [8, 16], dense: 32, numClasses: 10 };
    expect(reasonFor({ ...start, model: cnn })).toMatch(/inputShape: expected \[height, width, channels\]/);
    expect(reasonFor({ ...start, model: { kind: 'tabular', features: 0, hidden: [], numClasses: 3 } })).toMatch(/features: 0/);
    expect(validateMessage({ ...start, model: { kind: 'tabular', features: 13, hidden: [], numClasses: 3 } }).ok).toBe(true);
    expect(reasonFor({ ...start, strategy: { name: 'fedsgd' } })).toMatch(/unknown strategy "fedsgd"/);
    expect(reasonFor({ ...start, strategy: { name: 'fedprox', mu: '1' } })).toMatch(/strategy.mu: expected a finite number/);
    expect(reasonFor({ ...start, strategy: { name: 'fedld', lambda: 0.1, rho: 1.5 } })).toMatch(/strategy.rho: must be in \(0, 1\]/);
    expect(reasonFor({ ...start, strategy: { name: 'fedld', rho: 0 } })).toMatch(/strategy.rho: must be in \(0, 1\]/);
    expect(reasonFor({ ...start, strategy: { name: 'fedprox', mu: -0.1 } })).toMatch(/mu: must be in \[0, 100\]/);
    expect(reasonFor({ ...start, strategy: { name: 'fedavg', mu: 0.1 } })).toMatch(/unknown parameter "mu"/);
    expect(reasonFor({ ...start, strategy: { name: 'fedld', weighting: 'heavy' } })).toMatch(/weighting: expected one of uniform, samples/);
    expect(reasonFor({ ...start, strategy: { name: 'fedavg', serverOpt: 'adam', serverTau: 0 } })).toMatch(/serverTau: must be in \(0, 10\]/);
    expect(reasonFor({ ...start, train: { ...start.train, optimizer: 'lbfgs' } })).toMatch(/round-start.train.optimizer: expected one of sgd, momentum, adam/);
    expect(reasonFor({ ...start, extras: { 'bad name': start.weights } })).toMatch(/round-start.extras: invalid entry name/);
    expect(reasonFor({ ...start, extras: { c: [{ name: 'x', shape: [2], values: [1, 2] }] } })).toMatch(/round-start.extras.c\[0\] "x".values: expected a Float32Array/);
    const good = validateMessage({ ...start, strategy: { name: 'scaffold', serverOpt: 'avgm' }, train: { ...start.train, optimizer: 'adam' }, extras: { c: start.weights } });
    expect(good.ok && good.message).toMatchObject({ strategy: { name: 'scaffold', serverOpt: 'avgm' }, train: { optimizer: 'adam' }, extras: { c: start.weights } });
  });
});

describe('checkUpdateAgainstLayout', () => {
  const update = byType('update') as UpdateMessage;
  const layout = layoutOf((byType('round-start') as RoundStartMessage).weights);

  it('accepts a delta with the model layout', () => {
    expect(checkUpdateAgainstLayout(update, layout)).toBeNull();
  });

  it('names the first mismatch: count, name, shape', () => {
    expect(checkUpdateAgainstLayout({ delta: update.delta.slice(1) }, layout)).toBe('update.delta: expected 4 tensors, got 3');
    const renamed = update.delta.map((t, i) => (i === 1 ? { ...t, name: 'fc1/b' } : t));
    expect(checkUpdateAgainstLayout({ delta: renamed }, layout)).toBe('update.delta[1]: tensor is named "fc1/b", expected "fc1/bias"');
    const other = randomWeights({ 'fc1/kernel': [64, 784], 'fc1/bias': [64], 'logits/kernel': [64, 10], 'logits/bias': [10] });
    expect(checkUpdateAgainstLayout({ delta: other }, layout)).toBe('update.delta[0] "fc1/kernel": shape [64,784], expected [784,64]');
  });
});
