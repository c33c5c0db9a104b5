export * from './types';
export { screenUpdates, type DeclaredSamples, type ScreenOptions } from './screen';
export { robustAggregate, coordinateCombine, type RobustRoundInput, type RobustRoundResult } from './defend';
export { normOf, median, coordinateStatistic, cosineWith, medianConsensus, type MedianConsensus } from './stats';
export { labelVerdicts, outputBiasIndex, type DeclaredLabels, type LabelVerdict } from './label-evidence';
export { screeningVerdicts, verdictSummary, type ScreeningAction, type ScreeningVerdict } from './verdicts';
