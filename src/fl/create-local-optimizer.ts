import * as tf from '@tensorflow/tfjs';
import { LOCAL_OPTIMIZER_DEFAULTS, type LocalOptimizerName } from './local-optimizer';

/**
 * A fresh optimizer for one round of local training, and how to free it completely. Each round starts from a
 * fresh optimizer: its moments are local-training state, not part of the federated model.
 */
export function createLocalOptimizer(
  name: LocalOptimizerName,
  learningRate: number,
  momentum: number = LOCAL_OPTIMIZER_DEFAULTS.momentum,
): { optimizer: tf.Optimizer; dispose: () => void } {
  switch (name) {
    case 'sgd': {
      const optimizer = tf.train.sgd(learningRate);
      return { optimizer, dispose: () => optimizer.dispose() };
    }
    case 'momentum': {
      const optimizer = tf.train.momentum(learningRate, momentum);
      return { optimizer, dispose: () => disposeMomentumOptimizer(optimizer) };
    }
    case 'adam': {
      const optimizer = tf.train.adam(learningRate);
      return { optimizer, dispose: () => optimizer.dispose() };
    }
  }
}

/**
 * MomentumOptimizer.dispose() (tfjs 4.22) overrides SGDOptimizer.dispose() without calling it, so the
 * learning-rate scalar `c` leaks one tensor per optimizer. Dispose it too, or tensor counts grow every round.
 */
function disposeMomentumOptimizer(optimizer: tf.MomentumOptimizer): void {
  optimizer.dispose();
  const lr = (optimizer as unknown as { c?: tf.Tensor }).c;
  if (lr && !lr.isDisposed) lr.dispose();
}
