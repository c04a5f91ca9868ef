import type { Transport } from '../transport/transport.js';
import type { DataStore } from './data-store.js';

/**
 * A {@link DataStore} that asks the worker's transport (i.e. the server) for
 * module data, e.g. ffmpeg option sets from `GET /data/ffmpeg/NAME`. An
 * unreachable server is an error (the module's validation then fails and
 * says why), not a missing record.
 */
export function transportDataStore(transport: Pick<Transport, 'getData'>): DataStore {
  return {
    get: (module, name) => transport.getData(module, name),
  };
}
