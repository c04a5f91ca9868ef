import { loadConfig } from '../../plugin/load-config.js';
import type { ApiOptions } from '../api-client.js';
import type { GlobalOptions } from './shared.js';

/**
 * The server URL and token of the operator commands: flags first, then the
 * environment (`$SISYPHUS_API`, `$API_URL`, `$SISYPHUS_TOKEN`, read by
 * `apiTarget`), then the config's `api` section.
 */
export async function apiOptionsFrom<T extends GlobalOptions & ApiOptions>(options: T): Promise<T> {
  if (options.api && options.token) return options;
  const loaded = await loadConfig(options.config ? { path: options.config } : {});
  const api = loaded.config.api ?? {};
  return {
    ...options,
    ...(options.api === undefined && !process.env.SISYPHUS_API && !process.env.API_URL && api.url ? { api: api.url } : {}),
    ...(options.token === undefined && !process.env.SISYPHUS_TOKEN && api.token ? { token: api.token } : {}),
  };
}
