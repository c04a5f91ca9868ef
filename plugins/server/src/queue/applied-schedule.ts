import type { QueueStore, WorkerRecord } from '../store/queue-store.js';
import { TAG_SCHEDULES_ATTRIBUTE, WORKER_SCHEDULE_ATTRIBUTE } from './schedule-attributes.js';
import { combinedState, compileSchedule, scheduleState, type CompiledSchedule, type ScheduleState, type WorkerSchedule } from './worker-schedule.js';

/** Most tags read from a heartbeat (untrusted input). */
const MAX_TAGS = 256;

/**
 * The schedule that governs a worker, as {@link appliedSchedule} finds it:
 * - `source: 'worker'`: its own (`schedule` attribute); its tags' schedules
 *   do not count then;
 * - `source: 'tags'`: the schedules of its tags that have one (the queue's
 *   `schedules` attribute), which must ALL be active for it to take jobs:
 *   each tag schedule restricts the workers that carry the tag, and adding
 *   a tag to a worker (for routing, say) never widens its hours.
 */
export interface AppliedSchedule extends ScheduleState {
  source: 'worker' | 'tags';
  /** `source: 'worker'`: the worker's own schedule. */
  schedule?: WorkerSchedule;
  /** `source: 'tags'`: the schedule of each of its tags that has one. */
  tags?: Record<string, WorkerSchedule>;
  /**
   * Stored schedules that do not pass `checkSchedule` (written past the
   * API's checks): each is ignored (it restricts nothing) and named here.
   */
  errors?: string[];
}

/**
 * A worker's tags, from the capabilities of its last heartbeat
 * (`status.capabilities.tags`): strings only, at most {@link MAX_TAGS}.
 * None when its heartbeat expired or it advertises none.
 */
export function workerTags(status: Record<string, unknown> | undefined): string[] {
  const capabilities = status?.capabilities;
  const tags = typeof capabilities === 'object' && capabilities !== null ? (capabilities as { tags?: unknown }).tags : undefined;
  // In lower case, as routing compares tags (`capabilityList`): `GPU` and `gpu` are one tag.
  return Array.isArray(tags) ? [...new Set(tags.filter((tag): tag is string => typeof tag === 'string').map((tag) => tag.toLowerCase()))].slice(0, MAX_TAGS) : [];
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Does deciding `record`'s schedule need the queue's attributes (tag schedules)? Not when it has its own, or no tags. */
export function needsTagSchedules(record: WorkerRecord): boolean {
  const own = record.attributes[WORKER_SCHEDULE_ATTRIBUTE];
  return (own === undefined || own === null) && workerTags(record.status).length > 0;
}

/**
 * The schedule that applies to the worker of `record` at epoch ms `now`
 * (see {@link AppliedSchedule} for which), with its state; undefined when
 * none does (the worker takes jobs at any hour). `queueAttributes` is
 * needed only when {@link needsTagSchedules}.
 */
export function appliedSchedule(record: WorkerRecord, queueAttributes: Record<string, unknown> | undefined, now: number): AppliedSchedule | undefined {
  const own = record.attributes[WORKER_SCHEDULE_ATTRIBUTE];
  if (own !== undefined && own !== null) {
    try {
      return { source: 'worker', schedule: own as WorkerSchedule, ...scheduleState(compileSchedule(own, 'schedule'), now) };
    } catch (error) {
      return { source: 'worker', schedule: own as WorkerSchedule, active: true, next_change: null, errors: [(error as Error).message] };
    }
  }
  const byTag = queueAttributes?.[TAG_SCHEDULES_ATTRIBUTE];
  if (!isObject(byTag)) return undefined;
  const tags: Record<string, WorkerSchedule> = {};
  const compiled: CompiledSchedule[] = [];
  const errors: string[] = [];
  // Tag schedules are keyed as they were written; a worker's tag matches a key in any case.
  const mine = new Set(workerTags(record.status));
  for (const tag of Object.keys(byTag)) {
    if (!mine.has(tag.toLowerCase()) || byTag[tag] === null || byTag[tag] === undefined) continue;
    Object.defineProperty(tags, tag, { value: byTag[tag], enumerable: true, writable: true, configurable: true });
    try {
      compiled.push(compileSchedule(byTag[tag], `schedules[${JSON.stringify(tag)}]`));
    } catch (error) {
      errors.push((error as Error).message);
    }
  }
  if (!Object.keys(tags).length) return undefined;
  const state = compiled.length ? combinedState(compiled, now) : { active: true, next_change: null };
  return { source: 'tags', tags, ...state, ...(errors.length ? { errors } : {}) };
}

/** What {@link scheduleBlock} answers for a worker outside its active hours. */
export interface ScheduleBlock {
  blocked: true;
  /** Epoch ms its hours begin again; null when no window opens within a week (tag schedules that never overlap). */
  until: number | null;
  /** For the poll's 404: `this worker is outside its active hours until 2025-03-31T05:00:00.000Z (its tag gpu's schedule)`. */
  reason: string;
  /** The schedule that blocks it. */
  schedule: AppliedSchedule;
}

/** `its own schedule` / `the schedule of its tag gpu` / `the schedules of its tags gpu, night`. */
function whose(applied: AppliedSchedule): string {
  if (applied.source === 'worker') return 'its own schedule';
  const tags = Object.keys(applied.tags ?? {});
  return tags.length === 1 ? `the schedule of its tag ${tags[0]}` : `the schedules of its tags ${tags.join(', ')}`;
}

/**
 * Must the worker of `record` take no new job at epoch ms `now`? A
 * {@link ScheduleBlock} when the schedule that applies to it
 * ({@link appliedSchedule}) is not active, else undefined. The poll paths
 * answer a blocked worker as a disabled one (HTTP: 404 with `reason`);
 * its running job, renewals and reports are not affected.
 */
export function scheduleBlock(record: WorkerRecord, queueAttributes: Record<string, unknown> | undefined, now: number): ScheduleBlock | undefined {
  const applied = appliedSchedule(record, queueAttributes, now);
  if (!applied || applied.active) return undefined;
  const when = applied.next_change === null ? 'and no window of it opens within a week' : `until ${new Date(applied.next_change).toISOString()}`;
  return { blocked: true, until: applied.next_change, reason: `this worker is outside its active hours ${when} (${whose(applied)})`, schedule: applied };
}

/**
 * {@link scheduleBlock} reading what it needs from `store`: the worker's
 * record (unless given; `''`, an anonymous poll, is never blocked) and,
 * only when the worker has tags and no schedule of its own, the queue's
 * attributes. For the poll paths: `GET /queue/poll`, a report with
 * `?next=1`, and the direct Redis transport's `next()` and `complete()`.
 */
export async function workerScheduleBlock(
  store: Pick<QueueStore, 'worker' | 'queueAttributes'>,
  worker: string | WorkerRecord,
  now: number,
): Promise<ScheduleBlock | undefined> {
  if (worker === '') return undefined;
  const record = typeof worker === 'string' ? await store.worker(worker, now) : worker;
  return scheduleBlock(record, needsTagSchedules(record) ? await store.queueAttributes() : undefined, now);
}

/**
 * The `schedule` of a worker in `GET /workers` and `GET /workers/{id}`:
 * the {@link AppliedSchedule} with `next_change` as an ISO time.
 */
export function scheduleView(applied: AppliedSchedule): Record<string, unknown> {
  return { ...applied, next_change: applied.next_change === null ? null : new Date(applied.next_change).toISOString() };
}
