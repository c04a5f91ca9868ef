import { api, reportError } from '../api/api-client.js';
import type { ServerEvent } from '../api/server-event.js';
import type { Overview, WorkerView } from '../api/types.js';
import { eventStream } from '../events/event-stream.js';
import { coalesce } from './coalesce.js';
import { Observable } from './observable.js';
import { serverNow } from './server-clock.js';

/** Seconds without a heartbeat after which a worker counts offline, until the server tells its own. */
const DEFAULT_EXPIRY_SECONDS = 60;
/** Fewest ms between two loads for the workers' schedules (see `#reloadSchedules`). */
const SCHEDULE_RELOAD_MS = 5000;
/** Longest wait of the timer that loads the schedules again when one flips (setTimeout's limit is 2^31-1 ms). */
const MAX_TIMER_MS = 6 * 3_600_000;

/**
 * Every worker the server knows (`GET /workers?offline=1`), kept current by
 * `worker.*` events; online or offline is computed here from `last_seen` and
 * the server's `client_expiry_seconds` on a local one-second timer (the
 * server sends no event when a worker goes quiet). Views read it through
 * `version`, which changes (at most five times a second) when anything did.
 *
 * A worker's `schedule` (active hours: whether it is active now, until
 * when) is worked out by the server in `GET /workers`, not carried by
 * heartbeats: it is kept across heartbeats, and the list is loaded again
 * (at most every 5 s) when a schedule may have changed: a worker's
 * attributes or the queue's tag schedules changed, a worker with tags
 * came online, or the next change of a schedule shown has come.
 */
export class WorkersStore {
  /** Changes whenever a worker changed. */
  readonly version = new Observable(0);
  /** Changes when a worker came online, went offline, appeared, left, or was enabled or disabled. */
  readonly presence = new Observable(0);
  /** Whether the first load finished. */
  readonly loaded = new Observable(false);
  #workers = new Map<string, WorkerView>();
  #expiryMs = DEFAULT_EXPIRY_SECONDS * 1000;
  #sorted: WorkerView[] | undefined;
  #byJob: Map<string, WorkerView> | undefined;
  #online = new Set<string>();
  #notifyTimer: ReturnType<typeof setTimeout> | undefined;
  #tick: ReturnType<typeof setInterval> | undefined;
  #unsubscribe: Array<() => void> = [];
  #loadSeq = 0;
  #scheduleTimer: ReturnType<typeof setTimeout> | undefined;
  /** The queue's tag schedules as last seen in a `queue.attributes` event (JSON). */
  #tagSchedules: string | undefined;
  #reloadSchedules = coalesce(() => void this.load(), SCHEDULE_RELOAD_MS, 500);

  /** Load the workers and follow the event stream. */
  start(): void {
    if (this.#tick) return;
    this.#unsubscribe.push(
      eventStream.subscribe((event) => this.#apply(event)),
      eventStream.generation.subscribe(() => void this.load()),
    );
    this.#tick = setInterval(() => this.#checkPresence(), 1000);
    void this.load();
  }

  /** Stop following (signing out) and forget every worker. */
  stop(): void {
    clearInterval(this.#tick);
    this.#tick = undefined;
    clearTimeout(this.#scheduleTimer);
    this.#reloadSchedules.cancel();
    this.#tagSchedules = undefined;
    for (const unsubscribe of this.#unsubscribe.splice(0)) unsubscribe();
    this.#workers.clear();
    this.#online.clear();
    this.#loadSeq++;
    this.loaded.set(false);
    this.#changed();
  }

  /** Load every worker from the server (the snapshot). */
  async load(): Promise<void> {
    const seq = ++this.#loadSeq;
    try {
      const [list, overview] = await Promise.all([
        api<{ workers: WorkerView[] }>('/workers?offline=1'),
        api<Overview>('/status/overview').catch(() => undefined),
      ]);
      if (seq !== this.#loadSeq) return;
      if (overview?.client_expiry_seconds) this.#expiryMs = overview.client_expiry_seconds * 1000;
      this.#workers = new Map(list.workers.map((w) => [w.worker_id, normalized(w)]));
      this.#online = this.#onlineNow();
      this.#timeScheduleReload();
      this.loaded.set(true);
      this.#changed(true);
    } catch (error) {
      if (seq === this.#loadSeq) reportError(error);
    }
  }

  /** Is `worker` online now (heard from within the expiry)? */
  isOnline(worker: WorkerView): boolean {
    if (!worker.last_seen) return worker.online;
    return serverNow() - Date.parse(worker.last_seen) <= this.#expiryMs;
  }

  /** Every worker, sorted by hostname (then id). */
  all(): WorkerView[] {
    this.#sorted ??= [...this.#workers.values()].sort((a, b) => compare(a.hostname, b.hostname) || compare(a.worker_id, b.worker_id));
    return this.#sorted;
  }

  /** The worker by id. */
  get(workerId: string): WorkerView | undefined {
    return this.#workers.get(workerId);
  }

  /** The online worker whose last heartbeat says it runs `jobId`. */
  runningJob(jobId: string): WorkerView | undefined {
    if (!this.#byJob) {
      this.#byJob = new Map();
      for (const worker of this.#workers.values()) if (worker.job_id) this.#byJob.set(worker.job_id, worker);
    }
    return this.#byJob.get(jobId);
  }

  /** Set a worker's attributes (the answer of a PATCH). */
  setAttributes(workerId: string, attributes: WorkerView['attributes']): void {
    const worker = this.#workers.get(workerId);
    if (!worker) return;
    this.#workers.set(workerId, { ...worker, attributes });
    this.#changed(true);
  }

  #apply(event: ServerEvent): void {
    switch (event.type) {
      case 'worker.heartbeat': {
        const w = event.worker;
        if (!w?.worker_id) return;
        const old = this.#workers.get(w.worker_id);
        const status = (w.status ?? {}) as Partial<WorkerView>;
        const attributes = (w.attributes ?? old?.attributes ?? {}) as WorkerView['attributes'];
        // The schedule is not part of a heartbeat: the one of the last load stays.
        const { schedule: _sent, ...heard } = status;
        this.#workers.set(
          w.worker_id,
          normalized({ ...heard, worker_id: w.worker_id, attributes, online: true, last_seen: w.last_seen ?? event.at, ...(old?.schedule ? { schedule: old.schedule } : {}) }),
        );
        const cameOnline = !this.#online.has(w.worker_id);
        this.#online.add(w.worker_id);
        // Its tags may bring it under a tag schedule.
        if (cameOnline && !attributes.schedule && hasTags(status.capabilities)) this.#reloadSchedules();
        this.#changed(!old || cameOnline || Boolean(old.attributes.disabled) !== Boolean(attributes.disabled));
        return;
      }
      case 'worker.attributes': {
        if (!event.worker_id) return;
        const attributes = (event.attributes ?? {}) as WorkerView['attributes'];
        const old = this.#workers.get(event.worker_id);
        this.#workers.set(
          event.worker_id,
          old ? { ...old, attributes } : normalized({ worker_id: event.worker_id, attributes, online: false }),
        );
        if (JSON.stringify(old?.attributes.schedule ?? null) !== JSON.stringify(attributes.schedule ?? null)) this.#reloadSchedules();
        this.#changed(true);
        return;
      }
      case 'queue.attributes': {
        const schedules = JSON.stringify(event.attributes?.schedules ?? null);
        if (schedules !== this.#tagSchedules) {
          if (this.#workers.size) this.#reloadSchedules();
          this.#tagSchedules = schedules;
        }
        return;
      }
      case 'worker.removed':
        if (event.worker_id && this.#workers.delete(event.worker_id)) {
          this.#online.delete(event.worker_id);
          this.#changed(true);
        }
        return;
      default:
    }
  }

  /** Load again just after the soonest change of a schedule shown (a worker going active or off hours). */
  #timeScheduleReload(): void {
    clearTimeout(this.#scheduleTimer);
    let soonest = Infinity;
    for (const worker of this.#workers.values()) {
      const at = worker.schedule?.next_change ? Date.parse(worker.schedule.next_change) : NaN;
      if (at < soonest) soonest = at;
    }
    if (soonest === Infinity) return;
    this.#scheduleTimer = setTimeout(() => this.#reloadSchedules(), Math.min(MAX_TIMER_MS, Math.max(0, soonest - serverNow()) + 1000));
  }

  /** The one-second check: did a worker go quiet for longer than the expiry? */
  #checkPresence(): void {
    const online = this.#onlineNow();
    if (online.size === this.#online.size && [...online].every((id) => this.#online.has(id))) return;
    this.#online = online;
    this.#changed(true);
  }

  #onlineNow(): Set<string> {
    const online = new Set<string>();
    for (const worker of this.#workers.values()) if (this.isOnline(worker)) online.add(worker.worker_id);
    return online;
  }

  #changed(presence = false): void {
    this.#sorted = undefined;
    this.#byJob = undefined;
    if (presence) this.presence.set(this.presence.value + 1);
    // Many heartbeats a second (a thousand workers) make one render.
    this.#notifyTimer ??= setTimeout(() => {
      this.#notifyTimer = undefined;
      this.version.set(this.version.value + 1);
    }, 200);
  }
}

/** A worker as listed, with the fields an offline one lacks (the server keeps no heartbeat of it) filled in. */
function normalized(worker: Partial<WorkerView> & { worker_id: string }): WorkerView {
  return {
    ...worker,
    worker_id: worker.worker_id,
    hostname: typeof worker.hostname === 'string' && worker.hostname ? worker.hostname : worker.worker_id,
    status: typeof worker.status === 'string' && worker.status ? worker.status : worker.online === false ? 'offline' : 'unknown',
    version: typeof worker.version === 'string' ? worker.version : '',
    attributes: worker.attributes ?? {},
    online: worker.online ?? true,
    last_seen: worker.last_seen ?? null,
  };
}

function hasTags(capabilities: unknown): boolean {
  const tags = typeof capabilities === 'object' && capabilities !== null ? (capabilities as { tags?: unknown }).tags : undefined;
  return Array.isArray(tags) && tags.length > 0;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The page's workers. */
export const workersStore = new WorkersStore();
