import { ConfigError, ErrorCodes } from '@sisyphus/core';
import { queueIdProblem } from '@sisyphus/core/transport';
import type { QueueStore } from '../store/queue-store.js';
import { StoreError } from '../store/store-error.js';
import { checkSchedule, fieldPath, type WorkerSchedule } from './worker-schedule.js';

/** The worker attribute holding a worker's own schedule (`PATCH /workers/{id}` `{schedule}`). */
export const WORKER_SCHEDULE_ATTRIBUTE = 'schedule';
/** The queue attribute holding the schedules of tags: `{tag: schedule}` (`PATCH /queue` `{schedules}`). */
export const TAG_SCHEDULES_ATTRIBUTE = 'schedules';

/** Longest tag name a schedule is kept for. */
const MAX_TAG_LENGTH = 100;
/** Most tags with schedules: each poll of a tagged worker may look at them. */
export const MAX_TAG_SCHEDULES = 1000;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Why `tag` cannot name a tag, or undefined. */
const tagProblem = (tag: string) => (tag.trim() === '' || tag.length > MAX_TAG_LENGTH ? `is not a tag name (1 to ${MAX_TAG_LENGTH} characters)` : undefined);
/** Why `id` cannot name a worker, or undefined. */
const workerIdProblem = (id: string) => {
  const problem = queueIdProblem(id);
  return problem ? `is not a worker id: it ${problem}` : undefined;
};

/**
 * Check a map `{tag: schedule}` (or `{worker id: schedule}`) under `path`;
 * null entries are dropped. Throws a {@link ConfigError} naming the field.
 */
function checkScheduleMap(value: unknown, path: string, keyProblem: (key: string) => string | undefined, defaultTimezone?: string): Record<string, WorkerSchedule> {
  if (!isObject(value)) throw new ConfigError(`${path} must be an object {name: {timezone?, windows}} (got ${JSON.stringify(value)?.slice(0, 60)})`);
  const entries = Object.entries(value);
  if (entries.length > MAX_TAG_SCHEDULES) throw new ConfigError(`${path} has ${entries.length} entries; at most ${MAX_TAG_SCHEDULES}`);
  const checked: Record<string, WorkerSchedule> = {};
  for (const [tag, schedule] of entries) {
    const problem = keyProblem(tag);
    if (problem) throw new ConfigError(`${fieldPath(path, tag.slice(0, 40))} ${problem}`);
    if (schedule === null) continue;
    // A plain object made here: a tag named __proto__ is a key like any other.
    Object.defineProperty(checked, tag, { value: checkSchedule(schedule, fieldPath(path, tag), defaultTimezone), enumerable: true, writable: true, configurable: true });
  }
  return checked;
}

/**
 * An attributes patch (`PATCH /workers/{id}` when `scope` is `worker`,
 * `PATCH /queue` when `queue`, untrusted) with its schedules checked and
 * normalised (see `checkSchedule`; a schedule without `timezone` gets
 * `defaultTimezone`, else this server's zone): a worker's `schedule`, the
 * queue's `schedules` map. `null` clears them. Other attributes pass
 * unchanged. Throws a `SIS_VALIDATION` {@link StoreError} (HTTP 400) naming
 * the field, e.g. `schedule.windows[0].from must be HH:MM, 00:00 to 23:59 (got "25:00")`.
 */
export function checkScheduleAttributes(scope: 'worker' | 'queue', patch: Record<string, unknown>, defaultTimezone?: string): Record<string, unknown> {
  const key = scope === 'worker' ? WORKER_SCHEDULE_ATTRIBUTE : TAG_SCHEDULES_ATTRIBUTE;
  const value = patch[key];
  if (value === undefined || value === null) return patch;
  try {
    const checked = scope === 'worker' ? checkSchedule(value, key, defaultTimezone) : checkScheduleMap(value, key, tagProblem, defaultTimezone);
    return { ...patch, [key]: checked };
  } catch (error) {
    if (error instanceof ConfigError) throw new StoreError(ErrorCodes.VALIDATION, error.message);
    throw error;
  }
}

/**
 * The server config's `schedules` section: active hours written into the
 * store at each start (see {@link seedSchedules}).
 */
export interface ScheduleSettings {
  /** Schedules of worker tags (a worker's `worker.tags`), by tag. */
  tags?: Record<string, WorkerSchedule>;
  /** Schedules of single workers, by worker id (each concurrency slot has its own id: `ID-1`, `ID-2`...). */
  workers?: Record<string, WorkerSchedule>;
}

/**
 * Check the config's `schedules` section; a {@link ConfigError} names the
 * field (`schedules.tags.gpu.windows[1].from must be HH:MM...`). Schedules
 * without `timezone` get `defaultTimezone` (the server's zone).
 */
export function checkScheduleSettings(value: unknown, defaultTimezone?: string): Required<ScheduleSettings> {
  if (value === undefined) return { tags: {}, workers: {} };
  if (!isObject(value)) throw new ConfigError('schedules must be an object {tags?: {TAG: schedule}, workers?: {ID: schedule}}');
  for (const key of Object.keys(value)) {
    if (key !== 'tags' && key !== 'workers') throw new ConfigError(`${fieldPath('schedules', key)}: unknown setting; use tags and/or workers`);
  }
  const tags = value.tags === undefined ? {} : checkScheduleMap(value.tags, 'schedules.tags', tagProblem, defaultTimezone);
  const workers = value.workers === undefined ? {} : checkScheduleMap(value.workers, 'schedules.workers', workerIdProblem, defaultTimezone);
  return { tags, workers };
}

/**
 * Write the configured schedules into the store (a server's start): each
 * tag named in `settings.tags` gets its schedule in the queue's
 * `schedules`, each worker in `settings.workers` its `schedule` attribute,
 * replacing what was stored for them. Tags and workers the config does not
 * name keep what the API set.
 */
export async function seedSchedules(store: Pick<QueueStore, 'queueAttributes' | 'setQueueAttributes' | 'setWorkerAttributes'>, settings: ScheduleSettings): Promise<void> {
  const tags = settings.tags ?? {};
  if (Object.keys(tags).length) {
    const stored = (await store.queueAttributes())[TAG_SCHEDULES_ATTRIBUTE];
    const merged: Record<string, unknown> = {};
    for (const [tag, schedule] of [...Object.entries(isObject(stored) ? stored : {}), ...Object.entries(tags)]) {
      Object.defineProperty(merged, tag, { value: schedule, enumerable: true, writable: true, configurable: true });
    }
    await store.setQueueAttributes({ [TAG_SCHEDULES_ATTRIBUTE]: merged });
  }
  for (const [workerId, schedule] of Object.entries(settings.workers ?? {})) {
    await store.setWorkerAttributes(workerId, { [WORKER_SCHEDULE_ATTRIBUTE]: schedule });
  }
}
