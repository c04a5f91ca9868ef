import type { ChainableCommander, Redis } from 'ioredis';
import { normaliseAttributes, type Attributes } from '@sisyphus/server/store';

export type { Attributes };

/**
 * Attributes live in a Redis hash, one field per attribute holding its JSON
 * value, so a patch is a plain `HSET` (atomic, no read-modify-write).
 * The field/value pairs of a patch; `disabled` is stored as a boolean.
 */
export function patchFields(patch: Record<string, unknown>): string[] {
  const fields: string[] = [];
  for (const [name, value] of Object.entries(patch)) {
    const json = name === 'disabled' ? JSON.stringify(value === true) : JSON.stringify(value);
    if (json !== undefined) fields.push(name, json); // undefined values are dropped, as JSON would
  }
  return fields;
}

/** The attributes held by a hash written with {@link patchFields}. */
export function attributesOf(hash: Record<string, string>): Attributes {
  const attributes: Record<string, unknown> = {};
  for (const [name, json] of Object.entries(hash)) {
    Object.defineProperty(attributes, name, { value: JSON.parse(json) as unknown, enumerable: true, writable: true, configurable: true });
  }
  return normaliseAttributes(attributes);
}

/**
 * Apply `patch` to the attribute hash `key` (a new hash starts enabled) and
 * read it back, in one transaction; `also` adds commands to it.
 */
export async function updateAttributes(
  redis: Redis,
  key: string,
  patch: Record<string, unknown>,
  also?: (tx: ChainableCommander) => void,
): Promise<Attributes> {
  const tx = redis.multi();
  also?.(tx);
  tx.hsetnx(key, 'disabled', 'false');
  const fields = patchFields(patch);
  if (fields.length > 0) tx.hset(key, ...fields);
  tx.hgetall(key);
  const replies = (await tx.exec()) ?? [];
  const [error, hash] = replies[replies.length - 1] ?? [new Error('attributes update aborted'), {}];
  if (error) throw error;
  return attributesOf(hash as Record<string, string>);
}
