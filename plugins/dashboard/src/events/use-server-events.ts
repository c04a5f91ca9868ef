import { useEffect, useRef } from 'preact/hooks';
import type { ServerEvent } from '../api/server-event.js';
import { useObservable } from '../state/observable.js';
import { eventStream } from './event-stream.js';

/** Call `handler` (its latest version) for every event of the stream while the component is mounted. */
export function useServerEvents(handler: (event: ServerEvent) => void): void {
  const latest = useRef(handler);
  latest.current = handler;
  useEffect(() => eventStream.subscribe((event) => latest.current(event)), []);
}

/** A number that changes when snapshots must be loaded again (put it in the load effect's dependencies). */
export function useGeneration(): number {
  return useObservable(eventStream.generation);
}
