import * as tf from '@tensorflow/tfjs';

/** FedLD margin control: lambda * log(1 + ||softmax(Z)||_F^2) over the whole B x C batch (spec section 2). */
export function marginControlLoss(logits: tf.Tensor2D, lambda: number): tf.Scalar {
  return tf.tidy(() => {
    const probs = tf.softmax(logits);
    const frob2 = tf.sum(tf.square(probs));
    return tf.mul(lambda, tf.log1p(frob2)) as tf.Scalar;
  });
}

/** FedProx proximal term: (mu / 2) * ||w - w_g||^2 over all trainable tensors. */
export function proximalLoss(params: tf.Tensor[], globalParams: tf.Tensor[], mu: number): tf.Scalar {
  return tf.tidy(() => {
    let total: tf.Tensor = tf.scalar(0);
    for (let i = 0; i < params.length; i++) {
      total = tf.add(total, tf.sum(tf.square(tf.sub(params[i], globalParams[i]))));
    }
    return tf.mul(mu / 2, total) as tf.Scalar;
  });
}
