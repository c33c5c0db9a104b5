export type LocalOptimizerName = 'sgd' | 'momentum' | 'adam';

export const LOCAL_OPTIMIZERS: readonly { name: LocalOptimizerName; label: string }[] = [
  { name: 'sgd', label: 'SGD' },
  { name: 'momentum', label: 'SGD with momentum' },
  { name: 'adam', label: 'Adam' },
];

/** Used when a TrainConfig leaves them out: the FedLD authors' SGD with momentum 0.5. */
export const LOCAL_OPTIMIZER_DEFAULTS = { optimizer: 'momentum' as LocalOptimizerName, momentum: 0.5 } as const;

export function isLocalOptimizerName(x: unknown): x is LocalOptimizerName {
  return LOCAL_OPTIMIZERS.some((o) => o.name === x);
}
