/**
 * Server-side module data (e.g. ffmpeg option sets `{name, options}`), read
 * by modules during `validate`. On a worker it comes from the server; when
 * running locally, from the config's `data` section or a data folder.
 */
export interface DataStore {
  /** The record `name` of `module`, or `undefined` when there is none. */
  get(module: string, name: string): Promise<Record<string, unknown> | undefined>;
}

/** Data given inline: `{ module: { name: record } }`. */
export function createMemoryDataStore(data: Record<string, Record<string, Record<string, unknown>>> = {}): DataStore {
  return {
    async get(module, name) {
      const record = data[module]?.[name];
      return record === undefined ? undefined : structuredClone(record);
    },
  };
}

/** Ask each store in turn; the first that has the record wins. */
export function chainDataStores(...stores: DataStore[]): DataStore {
  return {
    async get(module, name) {
      for (const store of stores) {
        const hit = await store.get(module, name);
        if (hit !== undefined) return hit;
      }
      return undefined;
    },
  };
}
