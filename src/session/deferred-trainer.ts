import type { LocalTrainer } from '../fl/local-trainer';

/** A trainer that forwards to whatever trainer the tab has now (its data can be loaded or forgotten at any time). */
export function deferredTrainer(current: () => LocalTrainer | null): LocalTrainer {
  const require = (): LocalTrainer => {
    const t = current();
    if (!t) throw new Error('this tab has no local data to train on yet');
    return t;
  };
  return {
    train: (req, hooks) => require().train(req, hooks),
    evaluate: (spec, w) => require().evaluate(spec, w),
    info: async () => current()?.info() ?? { backend: 'none', numSamples: 0, labelHistogram: [] },
  };
}
