/** Position after which the next page starts: a sorted-set score and member, in queue (`q`) or newest-first (`n`) order. */
export interface ListCursor {
  m: 'q' | 'n';
  /** Score of the last job of the page. */
  s: number;
  /** Member (job id; BullMQ job id for the queue) of the last job of the page. */
  id: string;
}

/** The opaque cursor text of a position. */
export function encodeCursor(cursor: ListCursor): string {
  return Buffer.from(JSON.stringify(cursor), 'utf8').toString('base64url');
}

/** The position of a cursor made by {@link encodeCursor} for the same order; RangeError otherwise. */
export function decodeCursor(text: string, mode: ListCursor['m']): ListCursor {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    value = undefined;
  }
  const c = value as Partial<Record<string, unknown>> | null | undefined;
  if (typeof c !== 'object' || c === null || c['m'] !== mode || typeof c['s'] !== 'number' || !Number.isFinite(c['s']) || typeof c['id'] !== 'string') {
    throw new RangeError(`invalid list cursor: ${JSON.stringify(text)}`);
  }
  return { m: mode, s: c['s'], id: c['id'] };
}
