import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, api } from '../api/api-client.js';
import type { ServerEvent } from '../api/server-event.js';
import { useGeneration, useServerEvents } from '../events/use-server-events.js';
import { coalesce } from './coalesce.js';
import { useVisiblePoll } from './use-visible-poll.js';

/** What {@link usePolledApi} holds: the last answer, or why it failed (shown in the view, not as a message). */
export interface Polled<T> {
  data: T | undefined;
  error: string | undefined;
  reload: () => void;
}

/**
 * `GET path` (nothing while `path` is null), read again every `ms` while
 * the page is visible, with every new event stream, and about a second
 * after an event `refreshOn` selects: for what the server tells by no
 * event of its own (webhook deliveries, watch scans). A failure is kept as
 * `error` (the last answer stays); a 403 was shown as a message already.
 */
export function usePolledApi<T>(path: string | null, ms: number, refreshOn?: (event: ServerEvent) => boolean): Polled<T> {
  const [data, setData] = useState<T | undefined>();
  const [error, setError] = useState<string | undefined>();
  const seq = useRef(0);
  const generation = useGeneration();
  const load = async () => {
    if (path === null) return;
    const mine = ++seq.current;
    try {
      const answer = await api<T>(path);
      if (mine !== seq.current) return;
      setData(answer);
      setError(undefined);
    } catch (failure) {
      if (mine !== seq.current) return;
      setError(failure instanceof ApiError && failure.status === 403 ? `Not allowed: ${failure.message}` : failure instanceof Error ? failure.message : String(failure));
    }
  };
  const latest = useRef(load);
  latest.current = load;
  const [soon] = useState(() => coalesce(() => void latest.current(), 1000, 700));
  useEffect(() => () => soon.cancel(), []);
  useEffect(() => void load(), [path, generation]);
  useVisiblePoll(() => void load(), ms);
  useServerEvents((event) => {
    if (refreshOn?.(event)) soon();
  });
  return { data, error, reload: () => void load() };
}
