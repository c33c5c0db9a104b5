/**
 * Rényi-DP accounting for the subsampled Gaussian mechanism (Mironov, Talwar and Zhang, "Rényi Differential Privacy
 * of the Sampled Gaussian Mechanism", 2019), at integer orders, where the RDP of one step is exactly
 *   eps(alpha) = log A_alpha / (alpha - 1),   A_alpha = sum_k C(alpha, k) (1 - q)^(alpha - k) q^k exp((k^2 - k) / (2 sigma^2)),
 * for sampling rate q and noise multiplier sigma (noise std / L2 sensitivity). Steps compose by adding RDP order by
 * order; (eps, delta) is the best order's eps(alpha) + log(1 / delta) / (alpha - 1) (Mironov 2017, Proposition 3).
 */
export const DEFAULT_ORDERS: readonly number[] = [...Array.from({ length: 63 }, (_, i) => i + 2), 80, 96, 128, 192, 256];

const logFactorials: number[] = [0];
function logFactorial(n: number): number {
  for (let i = logFactorials.length; i <= n; i++) logFactorials[i] = logFactorials[i - 1] + Math.log(i);
  return logFactorials[n];
}

function logSumExp(terms: readonly number[]): number {
  const max = Math.max(...terms);
  if (max === -Infinity) return -Infinity;
  return max + Math.log(terms.reduce((s, t) => s + Math.exp(t - max), 0));
}

function checkOrder(order: number): void {
  if (!(Number.isInteger(order) && order >= 2)) throw new RangeError(`rdp: order ${order} is not an integer of at least 2`);
}

/** RDP of one step of the sampled Gaussian mechanism at an integer order. */
export function sampledGaussianRdp(q: number, sigma: number, order: number): number {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`rdp: sampling rate ${q} is not in [0, 1]`);
  if (!(sigma > 0 && Number.isFinite(sigma))) throw new RangeError(`rdp: noise multiplier ${sigma} is not positive`);
  checkOrder(order);
  if (q === 0) return 0;
  if (q === 1) return order / (2 * sigma * sigma);
  const terms: number[] = [];
  for (let k = 0; k <= order; k++) {
    terms.push(logFactorial(order) - logFactorial(k) - logFactorial(order - k) + k * Math.log(q) + (order - k) * Math.log1p(-q) + (k * k - k) / (2 * sigma * sigma));
  }
  return logSumExp(terms) / (order - 1);
}

/** RDP of `steps` identical steps, at each order. */
export function computeRdp(q: number, sigma: number, steps: number, orders: readonly number[] = DEFAULT_ORDERS): number[] {
  if (!(Number.isInteger(steps) && steps >= 0)) throw new RangeError(`rdp: step count ${steps}`);
  return orders.map((a) => steps * sampledGaussianRdp(q, sigma, a));
}

/** The smallest eps, over the orders, for which the composed RDP gives (eps, delta)-DP, and the order that gives it. */
export function epsilonFromRdp(rdp: readonly number[], delta: number, orders: readonly number[] = DEFAULT_ORDERS): { epsilon: number; order: number } {
  if (!(delta > 0 && delta < 1)) throw new RangeError(`rdp: delta ${delta} is not in (0, 1)`);
  if (rdp.length !== orders.length) throw new RangeError('rdp: one RDP value per order');
  let best = { epsilon: Infinity, order: orders[0] };
  orders.forEach((a, i) => {
    const eps = rdp[i] + Math.log(1 / delta) / (a - 1);
    if (eps < best.epsilon) best = { epsilon: eps, order: a };
  });
  return best;
}
