/**
 * The browser's session controller: the real worker, WebRTC transport, IndexedDB store and demo data behind
 * SessionControllerCore (src/session/session-controller.ts).
 */
import { demoDataUrl, fetchDemoData } from '../data/demo';
import { filesFromInput, type LocalFile } from '../data/pickers';
import { forgetLocalData, loadLocalData } from '../data/store';
import { openPeerTransport, type OpenedPeerTransport } from '../net/create-peer';
import { fetchServerUrls } from '../net/endpoints';
import { sharedDecodeOffload } from '../worker/worker-decoder';
import { WorkerTrainer } from '../worker/worker-trainer';
import { startAggregationWorker } from '../worker/worker-aggregator';
import { idbSnapshots } from '../data/session-store';
import { withSnapshotWorker } from '../worker/worker-snapshots';
import { isHostSnapshot, storageTabSessions } from './resume-store';
import { SessionControllerCore, type ControllerDeps, type ControllerTransport, type SessionControllerOptions } from './session-controller';

export { CONTROLLER_CONFIG, demoFits, keepIfSame, modelSpecForSettings, sessionConfigFromSettings, taskOfSpec } from './session-controller';

export function browserControllerDeps(): ControllerDeps {
  return {
    createTrainer: () => new WorkerTrainer(),
    openTransport: ({ onSignallingState, ...options }): Promise<ControllerTransport> =>
      openPeerTransport({ ...options, reclaimId: onSignallingState ? { onState: onSignallingState } : false, decodeOffload: sharedDecodeOffload() }),
    lanUrls: async () => (await fetchServerUrls()).urls,
    demoTestSplit: async () => (await fetchDemoData(demoDataUrl(new URL(import.meta.env.BASE_URL, location.href).href), ['test'])).test!,
    storedData: {
      load: loadLocalData,
      // Importing itself (decode, task check, IndexedDB, load) runs in the training worker: see SessionControllerCore.importFiles.
      files: (files) => (files.length && files[0] instanceof File ? filesFromInput(files as File[]) : (files as LocalFile[])),
      forget: forgetLocalData,
    },
    pageUrl: () => location.origin + location.pathname,
    page: globalThis,
    tabSession: storageTabSessions(sessionStorage),
    hostSnapshots: withSnapshotWorker(idbSnapshots(isHostSnapshot)),
    createAggregator: startAggregationWorker,
  };
}

export type BrowserSessionOptions = SessionControllerOptions;

/**
 * Whether this page load is a reload. A duplicated tab or one restored from history carries the tab's sessionStorage
 * too, but must not join the session unasked (a duplicate would become a second client next to the original).
 */
function pageWasReloaded(): boolean {
  const navigation = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined;
  return navigation?.type === 'reload';
}

export class BrowserSessionController extends SessionControllerCore {
  constructor(options: BrowserSessionOptions = {}) {
    super(browserControllerDeps(), options);
    // A client tab that was in a session when it reloaded goes back in (see rejoinAfterReload); a host tab offers to resume.
    if (pageWasReloaded()) void this.rejoinAfterReload();
  }
}
