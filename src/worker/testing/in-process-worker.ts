/** A helper worker's API served in this process, on one end of a MessageChannel (Comlink), for the workers' tests. */
import * as Comlink from 'comlink';

const ports: MessagePort[] = [];

/** The other end of a channel whose first end serves `api` (or nothing, when `api` is null: a worker that never answers). */
export function inProcessWorker(api: object | null): MessagePort {
  const channel = new MessageChannel();
  if (api) Comlink.expose(api, channel.port1);
  ports.push(channel.port1, channel.port2);
  return channel.port2;
}

/** Closes every channel made so far (afterEach). */
export function closeInProcessWorkers(): void {
  for (const port of ports.splice(0)) port.close();
}
