import { useEffect, useMemo } from 'preact/hooks';
import { useGeneration, useServerEvents } from '../events/use-server-events.js';
import { ChildrenWatch } from './children-watch.js';
import { useObservable } from './observable.js';

/**
 * A {@link ChildrenWatch} of the component, watching `parentIds` (the
 * component renders again when an answer comes in), fed by the event
 * stream, loaded afresh with every new snapshot, stopped on unmount.
 */
export function useChildren(parentIds: readonly string[]): ChildrenWatch {
  const watch = useMemo(() => new ChildrenWatch(), []);
  useObservable(watch.version);
  const key = parentIds.join('\n');
  useEffect(() => watch.watch(parentIds), [key]);
  const generation = useGeneration();
  useEffect(() => watch.refreshAll(), [generation]);
  useServerEvents((event) => watch.apply(event));
  useEffect(() => () => watch.stop(), []);
  return watch;
}
