import type { Redis } from 'ioredis';
import { byteCompare } from './byte-order.js';
import type { StoreKeys } from './store-keys.js';

/** The records modules keep on the server: a hash per module, record name -> JSON. */
export class ModuleData {
  constructor(
    private readonly redis: Redis,
    private readonly keys: StoreKeys,
  ) {}

  async getData(module: string, name: string): Promise<Record<string, unknown> | undefined> {
    const json = await this.redis.hget(this.keys.data(module), name);
    return json === null ? undefined : (JSON.parse(json) as Record<string, unknown>);
  }

  async putData(module: string, name: string, record: Record<string, unknown>): Promise<void> {
    await this.redis.hset(this.keys.data(module), name, JSON.stringify(record));
  }

  async deleteData(module: string, name: string): Promise<boolean> {
    return (await this.redis.hdel(this.keys.data(module), name)) > 0;
  }

  /** The names of a module's records, in byte order. */
  async listData(module: string): Promise<string[]> {
    return (await this.redis.hkeys(this.keys.data(module))).sort(byteCompare);
  }
}
