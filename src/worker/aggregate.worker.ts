/// <reference lib="webworker" />
/** The aggregation worker: runs each round's aggregation so the aggregating tab's main thread does not. */
import * as Comlink from 'comlink';
import { aggregateWorkerApi } from './aggregate-api';

Comlink.expose(aggregateWorkerApi);
