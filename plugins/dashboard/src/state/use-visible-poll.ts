import { useEffect, useRef } from 'preact/hooks';

/**
 * Call `fn` (its latest version) every `ms` while the component is mounted
 * and the page is visible; once at once when a hidden page shows again.
 * For what the event stream does not tell (webhook deliveries, watch scans).
 */
export function useVisiblePoll(fn: () => void, ms: number): void {
  const latest = useRef(fn);
  latest.current = fn;
  useEffect(() => {
    let timer: ReturnType<typeof setInterval> | undefined;
    const start = () => {
      clearInterval(timer);
      timer = document.hidden ? undefined : setInterval(() => latest.current(), ms);
    };
    const onVisibility = () => {
      if (!document.hidden) latest.current();
      start();
    };
    start();
    document.addEventListener('visibilitychange', onVisibility);
    return () => {
      clearInterval(timer);
      document.removeEventListener('visibilitychange', onVisibility);
    };
  }, [ms]);
}
