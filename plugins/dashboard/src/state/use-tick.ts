import { useEffect, useState } from 'preact/hooks';

/** Render the component again every `ms` (relative times such as "12 s ago"). */
export function useTick(ms = 1000): void {
  const [, setTick] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => setTick((n) => n + 1), ms);
    return () => clearInterval(timer);
  }, [ms]);
}
