/// <reference lib="webworker" />
/** The decode worker: decodes peers' large messages so the page's main thread does not (see worker-decoder.ts). */
import * as Comlink from 'comlink';
import { decodeWorkerApi } from './decode-api';

Comlink.expose(decodeWorkerApi);
