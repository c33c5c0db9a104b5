import type * as tfjs from '@tensorflow/tfjs';

/**
 * The TensorFlow.js namespace, handed to client halves by the trainer: strategy files import tfjs as types only,
 * so the main thread (which validates messages and renders forms from the registry) never loads tfjs.
 */
export type TfApi = typeof tfjs;

/** FedLD margin control: lambda * log(1 + ||softmax(Z)||_F^2) over the whole B x C batch (spec section 2). */
export function marginControlLoss(tf: TfApi, logits: tfjs.Tensor2D, lambda: number): tfjs.Scalar {
  return tf.tidy(() => {
    const probs = tf.softmax(logits);
    const frob2 = tf.sum(tf.square(probs));
    return tf.mul(lambda, tf.log1p(frob2)) as tfjs.Scalar;
  });
}

/** FedProx proximal term: (mu / 2) * ||w - w_g||^2 over all trainable tensors. */
export function proximalLoss(tf: TfApi, params: tfjs.Tensor[], globalParams: tfjs.Tensor[], mu: number): tfjs.Scalar {
  return tf.tidy(() => {
    let total: tfjs.Tensor = tf.scalar(0);
    for (let i = 0; i < params.length; i++) {
      total = tf.add(total, tf.sum(tf.square(tf.sub(params[i], globalParams[i]))));
    }
    return tf.mul(mu / 2, total) as tfjs.Scalar;
  });
}
