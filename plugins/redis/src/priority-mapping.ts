/**
 * Our priority: any integer, higher runs first. BullMQ's: 1 (runs first) to
 * 2^21 - 1 (it refuses more), and 0 means "no priority" which BullMQ hands out before every
 * prioritised job. So every job gets a BullMQ priority from 1 to 2^21 - 1:
 * `2^20 - ours`, after clamping ours to {@link MIN_PRIORITY}..{@link MAX_PRIORITY}.
 * Jobs outside that range keep their priority in the record but queue as the
 * nearest bound (FIFO among themselves).
 */
const CENTRE = 2 ** 20;

/** Highest priority with its own place in the queue (1 048 575). */
export const MAX_PRIORITY = CENTRE - 1;
/** Lowest priority with its own place in the queue (-1 048 575; BullMQ's largest priority is 2^21 - 1). */
export const MIN_PRIORITY = -(CENTRE - 1);

/** The BullMQ priority (1..2^21 - 1, lower first) for our priority (higher first). */
export function toBullmqPriority(priority: number): number {
  const p = Number.isFinite(priority) ? Math.trunc(priority) : 0;
  return CENTRE - Math.min(MAX_PRIORITY, Math.max(MIN_PRIORITY, p));
}
