import { ErrorCodes } from '@sisyphus/core';
import { StoreError } from './store-error.js';

/** Largest page a listing hands out (`GET /jobs`, `GET /queue?limit=`); bigger limits are clamped. */
export const MAX_PAGE_SIZE = 1000;

/** `limit` as a page size: a whole number from 1 to {@link MAX_PAGE_SIZE}. */
export function pageSize(limit: number): number {
  return Math.max(1, Math.min(MAX_PAGE_SIZE, Math.floor(limit) || 1));
}

/** A cursor's fields: each a finite number or a string. */
export type CursorFields = Record<string, number | string>;

/**
 * The opaque text of a list position: base64url JSON of `{m: order, ...fields}`.
 * Stores choose the fields (sort key and tie-breaker of their order).
 */
export function encodeCursor(order: string, fields: CursorFields): string {
  return Buffer.from(JSON.stringify({ m: order, ...fields }), 'utf8').toString('base64url');
}

/**
 * The fields of a cursor made by {@link encodeCursor} for `order` with
 * fields of the kinds in `shape`; a `SIS_BAD_CURSOR` {@link StoreError}
 * for anything else (another order, edited, not a cursor at all).
 */
export function decodeCursor<S extends Record<string, 'number' | 'string'>>(
  text: string,
  order: string,
  shape: S,
): { [K in keyof S]: S[K] extends 'number' ? number : string } {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    value = undefined;
  }
  const c = value as Record<string, unknown> | null | undefined;
  const valid =
    typeof c === 'object' &&
    c !== null &&
    c['m'] === order &&
    Object.entries(shape).every(([k, kind]) => (kind === 'number' ? typeof c[k] === 'number' && Number.isFinite(c[k]) : typeof c[k] === 'string'));
  if (!valid) throw new StoreError(ErrorCodes.BAD_CURSOR, `invalid list cursor ${JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}...` : text)}: start the listing again without one`);
  return Object.fromEntries(Object.keys(shape).map((k) => [k, c![k]])) as { [K in keyof S]: S[K] extends 'number' ? number : string };
}
