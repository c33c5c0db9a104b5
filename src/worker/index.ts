/** In-browser local training (main-thread API). */
export type { AdapterSummary, BackendProbe, BackendReport, BackendSwitch, DataSource, LocalDataInfo, TensorMemory, WorkerInfo, WorkerProgress, WorkerTrainResponse, WorkerEvaluateResponse } from './api';
export type { BackendName, BackendPreference } from './backend-names';
export { BACKEND_NAMES, isBackendPreference } from './backend-names';
export { WORKER_CONFIG } from './config';
export type { WorkerTrainHooks } from './worker-trainer';
export { WorkerTrainer } from './worker-trainer';
