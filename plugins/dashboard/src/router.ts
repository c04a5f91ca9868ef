import { useEffect, useState } from 'preact/hooks';

/** The views, by hash route (`#/overview`, `#/jobs/<id>`, ...). */
export type RouteName = 'overview' | 'running' | 'queue' | 'workers' | 'history' | 'job' | 'submit' | 'data';

/** A parsed hash route. */
export interface Route {
  name: RouteName;
  /** The job id of `#/jobs/<id>`. */
  jobId?: string;
}

const SIMPLE: readonly RouteName[] = ['overview', 'running', 'queue', 'workers', 'history', 'submit', 'data'];

/** The route of a location hash; anything unknown is the overview. */
export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#\/?/, '');
  const job = /^jobs\/(.+)$/.exec(path);
  if (job) {
    try {
      return { name: 'job', jobId: decodeURIComponent(job[1]!) };
    } catch {
      return { name: 'overview' };
    }
  }
  const name = path.split(/[/?]/)[0] as RouteName;
  return { name: SIMPLE.includes(name) ? name : 'overview' };
}

/** The hash link of a job's page. */
export function jobHref(jobId: string): string {
  return `#/jobs/${encodeURIComponent(jobId)}`;
}

/** The current route; the component renders again when the hash changes. */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return route;
}
