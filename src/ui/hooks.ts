import { createContext, useCallback, useContext, useState, useSyncExternalStore } from 'react';
import { parseRoute, routeHash, type Route } from './routes';
import { readProjectorMode, writeProjectorMode } from './preferences';

function subscribeHash(onChange: () => void): () => void {
  window.addEventListener('hashchange', onChange);
  return () => window.removeEventListener('hashchange', onChange);
}

/** The current hash route; re-renders on navigation. */
export function useHashRoute(): Route {
  const hash = useSyncExternalStore(subscribeHash, () => window.location.hash, () => '');
  return parseRoute(hash);
}

export function navigate(route: Route): void {
  const hash = routeHash(route);
  if (window.location.hash !== hash) window.location.hash = hash;
}

/** Projector layout on/off, remembered across visits. */
export function useProjectorMode(): [boolean, (on: boolean) => void] {
  const [on, setOn] = useState(readProjectorMode);
  const update = useCallback((next: boolean) => {
    writeProjectorMode(next);
    setOn(next);
  }, []);
  return [on, update];
}

/** Whether the projector layout is on, for components that size things in pixels (charts, QR code). */
export const ProjectorContext = createContext(false);

export function useProjector(): boolean {
  return useContext(ProjectorContext);
}
