import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { marginControlLoss, proximalLoss } from './client-terms';
import { openClientRound } from './runtime';
import type { StrategyConfig } from './types';

const clientRound = (config: StrategyConfig) => openClientRound(config, { tf, global: [], extras: {}, state: null, trainableIndex: [] });

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('client-side loss terms', () => {
  it('margin control is lambda * log(1 + ||softmax(Z)||_F^2) over the whole batch', () => {
    const logits = tf.tensor2d([[2, 0, -1], [0, 0, 0]]);
    const p1 = [Math.exp(2), 1, Math.exp(-1)];
    const s1 = p1.reduce((a, b) => a + b);
    const frob = p1.reduce((a, b) => a + (b / s1) ** 2, 0) + 3 * (1 / 3) ** 2;
    expect(marginControlLoss(tf, logits, 0.1).dataSync()[0]).toBeCloseTo(0.1 * Math.log(1 + frob), 6);
    logits.dispose();
  });

  it('margin control grows with over-confidence', () => {
    const confident = tf.tensor2d([[20, 0, 0]]);
    const unsure = tf.tensor2d([[0.1, 0, 0]]);
    expect(marginControlLoss(tf, confident, 1).dataSync()[0]).toBeGreaterThan(marginControlLoss(tf, unsure, 1).dataSync()[0]);
    tf.dispose([confident, unsure]);
  });

  it('the proximal term is (mu/2)||w - w_g||^2', () => {
    const w = [tf.tensor1d([1, 2]), tf.tensor1d([3])];
    const g = [tf.tensor1d([0, 0]), tf.tensor1d([1])];
    expect(proximalLoss(tf, w, g, 0.5).dataSync()[0]).toBeCloseTo(0.25 * (1 + 4 + 4), 6);
    tf.dispose([...w, ...g]);
  });

  it('FedAvg adds nothing; zero lambda or mu switch the terms off', () => {
    const logits = tf.tensor2d([[1, 2]]);
    const inputs = { logits, params: [], globalParams: [] };
    expect(clientRound({ name: 'fedavg' }).extraLoss(inputs)).toBeNull();
    expect(clientRound({ name: 'fedld', lambda: 0, rho: 0.8 }).extraLoss(inputs)).toBeNull();
    expect(clientRound({ name: 'fedprox', mu: 0 }).extraLoss(inputs)).toBeNull();
    const term = clientRound({ name: 'fedld', lambda: 0.1, rho: 0.8 }).extraLoss(inputs);
    expect(term).not.toBeNull();
    tf.dispose([logits, term!]);
  });
});
