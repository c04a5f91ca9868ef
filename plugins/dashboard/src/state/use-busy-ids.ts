import { useState } from 'preact/hooks';

/** A set of ids kept in a component's state ({@link useBusyIds}). */
export interface BusyIds {
  /** Whether `id` is in the set (as of this render). */
  has(id: string): boolean;
  /** Put `id` in the set (the component renders again). */
  add(id: string): void;
  /** Take `id` out of the set (the component renders again). */
  remove(id: string): void;
}

/**
 * The ids of a component's rows whose request is under way (a cancel, a
 * worker's enable/disable), for the row to show it; empty at start.
 */
export function useBusyIds(): BusyIds {
  const [ids, setIds] = useState<ReadonlySet<string>>(new Set());
  return {
    has: (id) => ids.has(id),
    add: (id) => setIds((old) => new Set(old).add(id)),
    remove: (id) =>
      setIds((old) => {
        const next = new Set(old);
        next.delete(id);
        return next;
      }),
  };
}
