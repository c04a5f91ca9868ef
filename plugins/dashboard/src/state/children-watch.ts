import { ApiError, api, reportError } from '../api/api-client.js';
import type { ServerEvent } from '../api/server-event.js';
import type { ChildrenView } from '../api/types.js';
import { coalesce, type Coalesced } from './coalesce.js';
import { Observable } from './observable.js';

/** At most one `GET /jobs/{id}/children` per parent in this many milliseconds (two a second). */
export const CHILDREN_REFRESH_MS = 500;

interface Watched {
  answer?: ChildrenView;
  /** The latest request's number: an older answer arriving late is dropped. */
  seq: number;
  refresh: Coalesced;
}

/**
 * The children of the parents a view shows (`GET /jobs/{id}/children`:
 * the round's children with state, worker, weight, progress, and the
 * parent's progress from them), loaded when a parent is first watched and
 * again, at most every {@link CHILDREN_REFRESH_MS} per parent however many
 * events arrive, when an event concerns one of its children: a `job.*`
 * event whose `parent_id` is the parent (a child queued, started, ended),
 * a `job.*` event of the parent itself (`job.waiting_children` is also sent
 * when one of its children ends), or a `worker.heartbeat` of a worker
 * running one of its children (the child's progress moved). `version`
 * changes when an answer came in.
 */
export class ChildrenWatch {
  /** Changes when any watched parent's answer changed. */
  readonly version = new Observable(0);
  #parents = new Map<string, Watched>();
  /** The parent of each child of a watched parent's round (a heartbeat names the child only). */
  #childParent = new Map<string, string>();
  #stopped = false;

  /** Watch exactly these parents: new ones are loaded, others forgotten. */
  watch(parentIds: Iterable<string>): void {
    const wanted = new Set(parentIds);
    for (const [id, entry] of this.#parents) {
      if (wanted.has(id)) continue;
      entry.refresh.cancel();
      entry.seq++;
      this.#forgetChildren(id);
      this.#parents.delete(id);
    }
    for (const id of wanted) {
      if (this.#parents.has(id)) continue;
      const entry: Watched = { seq: 0, refresh: coalesce(() => void this.#load(id), CHILDREN_REFRESH_MS, 0) };
      this.#parents.set(id, entry);
      entry.refresh();
    }
  }

  /** The latest answer for `parentId` (undefined until the first one came). */
  get(parentId: string): ChildrenView | undefined {
    return this.#parents.get(parentId)?.answer;
  }

  /** Load `parentId`'s children again soon (within the per-parent limit). */
  refresh(parentId: string): void {
    this.#parents.get(parentId)?.refresh();
  }

  /** Load every watched parent's children again (a new snapshot: events may have been missed). */
  refreshAll(): void {
    for (const entry of this.#parents.values()) entry.refresh();
  }

  /** Refresh the parents an event concerns. */
  apply(event: ServerEvent): void {
    const job = event.job;
    if (job) {
      if (job.parent_id && this.#parents.has(job.parent_id)) this.refresh(job.parent_id);
      if (this.#parents.has(job.job_id)) this.refresh(job.job_id);
      return;
    }
    if (event.type === 'worker.heartbeat') {
      const running = event.worker?.status?.job_id;
      const parent = typeof running === 'string' ? this.#childParent.get(running) : undefined;
      if (parent) this.refresh(parent);
    }
  }

  /** Stop (the view is gone): no more requests. */
  stop(): void {
    this.#stopped = true;
    this.watch([]);
  }

  async #load(parentId: string): Promise<void> {
    const entry = this.#parents.get(parentId);
    if (!entry || this.#stopped) return;
    const mine = ++entry.seq;
    try {
      const answer = await api<ChildrenView>(`/jobs/${encodeURIComponent(parentId)}/children`);
      if (mine !== entry.seq || this.#parents.get(parentId) !== entry) return;
      this.#forgetChildren(parentId);
      for (const child of answer.children) this.#childParent.set(child.job_id, parentId);
      entry.answer = answer;
      this.version.set(this.version.value + 1);
    } catch (error) {
      if (mine !== entry.seq) return;
      // A parent removed meanwhile (its job.* event follows) is no error worth a message.
      if (error instanceof ApiError && error.status === 404) return;
      reportError(error);
    }
  }

  #forgetChildren(parentId: string): void {
    for (const child of this.#parents.get(parentId)?.answer?.children ?? []) {
      if (this.#childParent.get(child.job_id) === parentId) this.#childParent.delete(child.job_id);
    }
  }
}
