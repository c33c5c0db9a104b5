/// <reference lib="webworker" />
/** The snapshot worker: saves the aggregating tab's session snapshots to IndexedDB (see worker-snapshots.ts). */
import * as Comlink from 'comlink';
import { snapshotWorkerApi } from './snapshot-api';

Comlink.expose(snapshotWorkerApi);
