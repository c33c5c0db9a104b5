/**
 * The zustand store the components read: a mirror of the SessionController's state plus the UI's own bits
 * (the error of the last failed action, which action is pending). Actions forward to the controller; whatever
 * they throw lands in `actionError`, shown in the error banner. No FL logic here.
 */
import { create, type StoreApi, type UseBoundStore } from 'zustand';
import type { DecompositionMode } from '../fl/protocol';
import type { LocalFile } from '../data/pickers';
import { INITIAL_SESSION_STATE, type SessionController, type SessionSettings, type SessionState } from '../session/types';
import { errorMessage } from './format';

export type PendingAction = 'host' | 'join' | 'start' | 'data' | 'backend' | 'export';

export interface SessionActions {
  /** Each async action resolves true on success, false when it failed (the error is then in actionError). */
  host(settings: SessionSettings, name: string): Promise<boolean>;
  join(code: string, secret: string, name: string, aggregatorId?: string): Promise<boolean>;
  start(): Promise<boolean>;
  stop(): boolean;
  leave(): boolean;
  useDemoData(): Promise<boolean>;
  importFiles(files: File[] | LocalFile[]): Promise<boolean>;
  forgetData(): Promise<boolean>;
  setBackend(preference: string): Promise<boolean>;
  setDecomposition(mode: DecompositionMode): boolean;
  /** Resumes the session this tab was in before a reload. */
  resume(): Promise<boolean>;
  /** Stops the automatic rejoin after a reload (the resume offer stays). */
  cancelRejoin(): boolean;
  dismissError(): void;
  /** Downloads the newest global model as model.json + weights.bin (via `save`). */
  exportModel(save: (files: { round: number; modelJson: string; weightsBin: ArrayBuffer }) => void): Promise<boolean>;
  /** Clears the session's own error (the controller's), once read. */
  dismissSessionError(): void;
}

export interface UiState {
  controller: SessionController | null;
  /** Message of the last action that threw (cleared when the next action starts or on dismiss). */
  actionError: string | null;
  /**
   * Which kind of action failed: the error is shown next to what caused it ('data' in the data panel, 'backend' in
   * the compute panel, the rest in the banner).
   */
  actionErrorSource: PendingAction | 'control' | null;
  pending: PendingAction | null;
}

export type SessionStore = SessionState & UiState & { actions: SessionActions };
export type SessionStoreHook = UseBoundStore<StoreApi<SessionStore>>;

export const NO_CONTROLLER_MESSAGE = 'The session is not ready yet (no session controller); reload the page.';

export function createSessionStore(): SessionStoreHook {
  return create<SessionStore>()((set, get) => {
    const controllerOrThrow = (): SessionController => {
      const c = get().controller;
      if (!c) throw new Error(NO_CONTROLLER_MESSAGE);
      return c;
    };

    async function runAsync(pending: PendingAction, call: (c: SessionController) => Promise<void>): Promise<boolean> {
      set({ actionError: null, actionErrorSource: null, pending });
      try {
        await call(controllerOrThrow());
        return true;
      } catch (error) {
        set({ actionError: errorMessage(error), actionErrorSource: pending });
        return false;
      } finally {
        if (get().pending === pending) set({ pending: null });
      }
    }

    function runSync(call: (c: SessionController) => void): boolean {
      set({ actionError: null, actionErrorSource: null });
      try {
        call(controllerOrThrow());
        return true;
      } catch (error) {
        set({ actionError: errorMessage(error), actionErrorSource: 'control' });
        return false;
      }
    }

    const actions: SessionActions = {
      host: (settings, name) => runAsync('host', (c) => c.host(settings, name)),
      join: (code, secret, name, aggregatorId) => runAsync('join', (c) => (aggregatorId === undefined ? c.join(code, secret, name) : c.join(code, secret, name, aggregatorId))),
      start: () => runAsync('start', (c) => c.start()),
      stop: () => runSync((c) => c.stop()),
      leave: () => runSync((c) => c.leave()),
      useDemoData: () => runAsync('data', (c) => c.useDemoData()),
      importFiles: (files) => runAsync('data', (c) => c.importFiles(files)),
      forgetData: () => runAsync('data', (c) => c.forgetData()),
      setBackend: (preference) => runAsync('backend', (c) => c.setBackend(preference)),
      setDecomposition: (mode) => runSync((c) => c.setDecomposition(mode)),
      resume: () =>
        runAsync('join', async (c) => {
          if (!c.resume) throw new Error('this page cannot resume a session');
          await c.resume();
        }),
      cancelRejoin: () => runSync((c) => c.cancelRejoin?.()),
      dismissError: () => set({ actionError: null, actionErrorSource: null }),
      exportModel: (save) =>
        runAsync('export', async (c) => {
          if (!c.exportModel) throw new Error('this session cannot export a model');
          save(await c.exportModel());
        }),
      dismissSessionError: () => get().controller?.clearError?.(),
    };

    return { ...INITIAL_SESSION_STATE, controller: null, actionError: null, actionErrorSource: null, pending: null, actions };
  });
}

/** The app's store. */
export const useSession: SessionStoreHook = createSessionStore();

/**
 * Mirrors `controller`'s state into the store from now on and routes actions to it.
 * `coalesceMs` > 0: state changes that arrive within that window reach React as one update (the controller emits
 * on every progress tick and protocol message; rendering each would fill the main thread with long tasks).
 * Returns a function that unbinds (the store then keeps the last state but actions fail with a clear message).
 */
export function bindController(controller: SessionController, store: SessionStoreHook = useSession, coalesceMs = 0): () => void {
  store.setState({ ...controller.getState(), controller });
  let pending: SessionState | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const flush = () => {
    timer = null;
    if (pending) store.setState(pending);
    pending = null;
  };
  const unsubscribe = controller.subscribe((state) => {
    if (coalesceMs <= 0) return store.setState(state);
    pending = state;
    timer ??= setTimeout(flush, coalesceMs);
  });
  return () => {
    unsubscribe();
    if (timer) clearTimeout(timer);
    flush();
    if (store.getState().controller === controller) store.setState({ controller: null });
  };
}
