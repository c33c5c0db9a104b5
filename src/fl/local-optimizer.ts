import { choiceSetting, numberDefault } from './settings';

export type LocalOptimizerName = 'sgd' | 'momentum' | 'adam';

export const LOCAL_OPTIMIZERS: readonly { name: LocalOptimizerName; label: string }[] = choiceSetting('optimizer').options.map((o) => ({ name: o.value as LocalOptimizerName, label: o.label }));

/** Used when a TrainConfig leaves them out (the declared defaults: the FedLD authors' SGD with momentum 0.5). */
export const LOCAL_OPTIMIZER_DEFAULTS = { optimizer: choiceSetting('optimizer').default as LocalOptimizerName, momentum: numberDefault('momentum') } as const;

export function isLocalOptimizerName(x: unknown): x is LocalOptimizerName {
  return LOCAL_OPTIMIZERS.some((o) => o.name === x);
}
