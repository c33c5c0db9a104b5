/** Small UI preferences kept in localStorage. Storage can be missing or throw (private mode): then defaults apply. */
import { UI_CONFIG } from './config';

type KeyValueStorage = Pick<Storage, 'getItem' | 'setItem'>;

function defaultStorage(): KeyValueStorage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null;
  }
}

function read(key: string, storage: KeyValueStorage | null): string | null {
  try {
    return storage?.getItem(key) ?? null;
  } catch {
    return null;
  }
}

function write(key: string, value: string, storage: KeyValueStorage | null): void {
  try {
    storage?.setItem(key, value);
  } catch {
    // Not persisting a preference is harmless.
  }
}

export function readProjectorMode(storage = defaultStorage()): boolean {
  return read(UI_CONFIG.storageKeys.projector, storage) === '1';
}

export function writeProjectorMode(on: boolean, storage = defaultStorage()): void {
  write(UI_CONFIG.storageKeys.projector, on ? '1' : '0', storage);
}

export function readDisplayName(storage = defaultStorage()): string {
  return read(UI_CONFIG.storageKeys.displayName, storage) ?? '';
}

export function writeDisplayName(name: string, storage = defaultStorage()): void {
  write(UI_CONFIG.storageKeys.displayName, name, storage);
}

/** STUN/TURN servers for sessions across networks, one per line (empty: LAN only, nothing leaves the network). */
export function readIceServers(storage = defaultStorage()): string {
  return read(UI_CONFIG.storageKeys.iceServers, storage) ?? '';
}

export function writeIceServers(text: string, storage = defaultStorage()): void {
  write(UI_CONFIG.storageKeys.iceServers, text, storage);
}
