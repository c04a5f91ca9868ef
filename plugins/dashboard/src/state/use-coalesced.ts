import { useEffect, useMemo, useRef } from 'preact/hooks';
import { coalesce, type Coalesced } from './coalesce.js';

/** A {@link coalesce}d caller of the component's latest `fn`, cancelled on unmount. */
export function useCoalesced(fn: () => void, intervalMs: number): Coalesced {
  const latest = useRef(fn);
  latest.current = fn;
  const call = useMemo(() => coalesce(() => latest.current(), intervalMs), [intervalMs]);
  useEffect(() => () => call.cancel(), [call]);
  return call;
}
