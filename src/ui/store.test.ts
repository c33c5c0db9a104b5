import { afterEach, describe, expect, it, vi } from 'vitest';
import { INITIAL_SESSION_STATE, type SessionController, type SessionState } from '../session/types';
import { NO_CONTROLLER_MESSAGE, bindController, createSessionStore } from './store';

/** A controller whose behaviour each test sets; it records calls. */
class ScriptedController implements SessionController {
  state: SessionState = { ...INITIAL_SESSION_STATE };
  listeners = new Set<(s: SessionState) => void>();
  calls: string[] = [];
  failWith: Error | null = null;
  getState() {
    return this.state;
  }
  subscribe(l: (s: SessionState) => void) {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
  emit(patch: Partial<SessionState>) {
    this.state = { ...this.state, ...patch };
    this.listeners.forEach((l) => l(this.state));
  }
  private async call(name: string) {
    this.calls.push(name);
    await Promise.resolve();
    if (this.failWith) throw this.failWith;
  }
  private callSync(name: string) {
    this.calls.push(name);
    if (this.failWith) throw this.failWith;
  }
  host = () => this.call('host');
  join = (code: string, secret: string, name: string, aggregatorId?: string) => this.call(`join ${code} ${secret} ${name} ${aggregatorId ?? '-'}`);
  start = () => this.call('start');
  stop = () => this.callSync('stop');
  leave = () => this.callSync('leave');
  useDemoData = () => this.call('demo');
  importFiles = () => this.call('import');
  forgetData = () => this.call('forget');
  setBackend = (p: string) => this.call(`backend ${p}`);
  setDecomposition = (m: string) => this.callSync(`decomposition ${m}`);
  cancelRejoin = () => this.callSync('cancel rejoin');
}

afterEach(() => {
  vi.useRealTimers();
});

describe('session store', () => {
  it('mirrors the controller state from binding on, and stops after unbinding', () => {
    const store = createSessionStore();
    const c = new ScriptedController();
    c.state = { ...c.state, code: 'ABCDEF', status: 'lobby' };
    const unbind = bindController(c, store);
    expect(store.getState()).toMatchObject({ code: 'ABCDEF', status: 'lobby' });
    c.emit({ status: 'running', currentRound: 2 });
    expect(store.getState()).toMatchObject({ status: 'running', currentRound: 2 });
    unbind();
    c.emit({ currentRound: 3 });
    expect(store.getState().currentRound).toBe(2);
    expect(store.getState().controller).toBeNull();
  });

  it('forwards actions with their arguments', async () => {
    const store = createSessionStore();
    const c = new ScriptedController();
    bindController(c, store);
    const { actions } = store.getState();
    expect(await actions.join('ABCDEF', 'f00', 'Ana')).toBe(true);
    expect(await actions.join('ABCDEF', 'f00', 'Ana', 'p7')).toBe(true);
    expect(await actions.setBackend('wasm')).toBe(true);
    expect(actions.setDecomposition('proxy')).toBe(true);
    expect(actions.cancelRejoin()).toBe(true);
    expect(c.calls).toEqual(['join ABCDEF f00 Ana -', 'join ABCDEF f00 Ana p7', 'backend wasm', 'decomposition proxy', 'cancel rejoin']);
  });

  it('puts what an action throws into the visible error area, and clears it on the next action', async () => {
    const store = createSessionStore();
    const c = new ScriptedController();
    bindController(c, store);
    c.failWith = new Error('the host is not reachable');
    expect(await store.getState().actions.join('ABCDEF', 'f00', 'Ana')).toBe(false);
    expect(store.getState().actionError).toBe('the host is not reachable');
    expect(store.getState().pending).toBeNull();
    c.failWith = new Error('nothing to stop');
    expect(store.getState().actions.stop()).toBe(false);
    expect(store.getState().actionError).toBe('nothing to stop');
    c.failWith = null;
    expect(await store.getState().actions.start()).toBe(true);
    expect(store.getState().actionError).toBeNull();
  });

  it('marks the running action as pending while it runs', async () => {
    const store = createSessionStore();
    const c = new ScriptedController();
    bindController(c, store);
    const running = store.getState().actions.useDemoData();
    expect(store.getState().pending).toBe('data');
    await running;
    expect(store.getState().pending).toBeNull();
  });

  it('explains that there is no controller instead of crashing', async () => {
    const store = createSessionStore();
    expect(await store.getState().actions.start()).toBe(false);
    expect(store.getState().actionError).toBe(NO_CONTROLLER_MESSAGE);
    store.getState().actions.dismissError();
    expect(store.getState().actionError).toBeNull();
  });

  it('remembers which kind of action failed, so the error is shown next to it, and dismisses it', async () => {
    const store = createSessionStore();
    const c = new ScriptedController();
    bindController(c, store);
    c.failWith = new Error('the file has 3 features; this session expects 28x28x1 images');
    expect(await store.getState().actions.importFiles([])).toBe(false);
    expect(store.getState()).toMatchObject({ actionErrorSource: 'data', actionError: 'the file has 3 features; this session expects 28x28x1 images' });
    c.failWith = new Error('no rounds');
    expect(await store.getState().actions.start()).toBe(false);
    expect(store.getState().actionErrorSource).toBe('start');
    store.getState().actions.dismissError();
    expect(store.getState()).toMatchObject({ actionError: null, actionErrorSource: null });
  });

  it('coalesces a burst of controller updates into one store update when asked to', async () => {
    vi.useFakeTimers();
    const store = createSessionStore();
    const c = new ScriptedController();
    let updates = 0;
    bindController(c, store, 30);
    store.subscribe(() => updates++);
    for (let i = 1; i <= 50; i++) c.emit({ currentRound: i });
    expect(updates).toBe(0);
    await vi.advanceTimersByTimeAsync(29);
    expect(updates).toBe(0);
    await vi.advanceTimersByTimeAsync(31);
    expect(updates).toBe(1);
    expect(store.getState().currentRound).toBe(50);
  });
});
