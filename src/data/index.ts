/** The browser data layer's public API (for the UI and the training worker). Local data never leaves the browser. */
export { DATA_CONFIG } from './config';
export type { DemoData, DemoShard, DemoShardSpec } from './demo';
export { demoDataUrl, demoShard, fetchDemoData, isDemoShardSpec } from './demo';
export type { DemoManifest, DemoSplitName } from './demo-format';
export type { CsvImportOptions, ImageImportOptions, ImportResult, LocalDataKind, NpzImportOptions } from './import';
export { detectLocalDataKind, importCsvFile, importImageFolder, importNpzFile } from './import';
export type { LocalDataImportOptions, LocalDataImportResult } from './local-data';
export { importLocalData } from './local-data';
export type { LocalFile } from './pickers';
export { filesFromDirectoryHandle, filesFromDrop, filesFromInput, hasDirectoryPicker, pickDirectory } from './pickers';
export type { ImageShape } from './resize';
export type { LocalSplit } from './split';
export { splitLocalDataset } from './split';
export type { StoredLocalData, StoredLocalDataSummary } from './store';
export { forgetLocalData, loadLocalData, saveLocalData, summarizeLocalData } from './store';
