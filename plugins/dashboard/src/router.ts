import { useEffect, useState } from 'preact/hooks';

/** The views, by hash route (`#/overview`, `#/jobs/<id>`, ...). */
export type RouteName = 'overview' | 'running' | 'queue' | 'workers' | 'history' | 'job' | 'submit' | 'data' | 'watch' | 'webhooks';

/** A parsed hash route. */
export interface Route {
  name: RouteName;
  /** The job id of `#/jobs/<id>`. */
  jobId?: string;
}

const SIMPLE: readonly RouteName[] = ['overview', 'running', 'queue', 'workers', 'history', 'submit', 'data', 'watch', 'webhooks'];

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

/** The query of the location hash (`#/history?state=failed&title=x` -> `state=failed&title=x`). */
export function hashQuery(hash: string = location.hash): URLSearchParams {
  const at = hash.indexOf('?');
  return new URLSearchParams(at < 0 ? '' : hash.slice(at + 1));
}

/** The hash link of a route with a query (empty values left out): `#/history?state=failed`. */
export function routeHref(name: RouteName, query: Record<string, string | undefined> = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value) params.set(key, value);
  const text = params.toString();
  return `#/${name}${text ? `?${text}` : ''}`;
}

/** The location hash, kept current (the component renders again when it changes). */
export function useHash(): string {
  const [hash, setHash] = useState(() => location.hash);
  useEffect(() => {
    const onChange = () => setHash(location.hash);
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return hash;
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
