import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, expect } from 'vitest';
import type { JobState, NewJob, QueueStore, StoredJob } from '../../store/queue-store.js';
import { queuedJobs } from '../queued-jobs.js';

/** Any fixed epoch; the suite passes times in and never sleeps. */
export const T0 = Date.UTC(2026, 0, 1);
export const LEASE = 60_000;
export const EXPIRY = 30_000;
export const MAX_ATTEMPTS = 3;

/** A string that breaks naive escaping: HTML specials, quotes, a backslash, non-Latin and astral characters. */
export const TRICKY = 'Tom & Jerry <b>"quoted"</b> \'single\' \\ back ü ß 日本語 🎬 \u2028 end';

/** What every section of the suite works with: the store of the running test and helpers over it. */
export interface StoreFixture {
  /**
   * The store the running test opened. Stable across tests (sections take it
   * once when they register), each call goes to the current test's store.
   */
  readonly store: QueueStore;
  /** A new job; `added` grows by one second per job within a test. */
  newJob(priority?: number, extra?: Record<string, unknown>): NewJob;
  /** Submit `n` new jobs of one priority; their ids in submission order. */
  submit(n: number, priority?: number): Promise<string[]>;
  /** Lease until the queue is empty; the ids in hand-out order. */
  leaseAll(workerId: string, now?: number): Promise<string[]>;
  /** The queued jobs' ids in queue order. */
  queuedIds(): Promise<string[]>;
  /** A job that must exist. */
  getJob(id: string): Promise<StoredJob>;
  /** Every job of `list` (of one state, or all), page by page, checking each page's size and state. */
  listAll(state: JobState | undefined, limit: number): Promise<{ ids: string[]; pages: number }>;
  /** Close the store and open it again with `reopen` (the suite's persistence option). */
  reopen(): Promise<void>;
}

/**
 * Open a fresh store before each test of the enclosing `describe` and close
 * it after; answer the {@link StoreFixture} over it. Call inside a `describe`.
 */
export function storeFixture(open: () => Promise<QueueStore> | QueueStore, reopen?: () => Promise<QueueStore> | QueueStore): StoreFixture {
  let current: QueueStore | undefined;
  let count = 0;

  beforeEach(async () => {
    count = 0;
    current = await open();
  });

  afterEach(async () => {
    await current?.close();
    current = undefined;
  });

  const opened = (): QueueStore => {
    if (!current) throw new Error('the conformance store is open only while a test runs');
    return current;
  };
  // Forwards each call to the current test's store (bound: stores keep private fields).
  const store = new Proxy({} as QueueStore, {
    get(_target, key) {
      const target = opened();
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
    has: (_target, key) => key in opened(),
  });

  function newJob(priority = 0, extra: Record<string, unknown> = {}): NewJob {
    count++;
    const job_id = randomUUID();
    const added = new Date(T0 + count * 1000).toISOString();
    const job_title = `job ${count}`;
    return {
      job_id,
      job_title,
      priority,
      added,
      job: { job_title, tasks: [{ module: 'cleanup', data: { delete: [`/tmp/${count}`] } }], job_id, added, ...extra },
    };
  }

  async function submit(n: number, priority = 0): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) ids.push((await store.submit(newJob(priority))).job_id);
    return ids;
  }

  async function leaseAll(workerId: string, now = T0): Promise<string[]> {
    const ids: string[] = [];
    for (let job = await store.lease(workerId, LEASE, now); job; job = await store.lease(workerId, LEASE, now)) {
      ids.push(job.job_id);
    }
    return ids;
  }

  async function queuedIds(): Promise<string[]> {
    return (await queuedJobs(store)).map((j) => j.job_id);
  }

  async function getJob(id: string): Promise<StoredJob> {
    const job = await store.get(id);
    expect(job, `job ${id}`).toBeDefined();
    return job!;
  }

  async function listAll(state: JobState | undefined, limit: number): Promise<{ ids: string[]; pages: number }> {
    const ids: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await store.list({ limit, ...(state ? { state } : {}), ...(cursor ? { cursor } : {}) });
      pages++;
      expect(page.jobs.length).toBeLessThanOrEqual(limit);
      if (page.next !== undefined) expect(page.jobs.length).toBe(limit);
      for (const job of page.jobs) {
        if (state) expect(job.state).toBe(state);
        ids.push(job.job_id);
      }
      cursor = page.next;
      expect(pages).toBeLessThan(1000);
    } while (cursor !== undefined);
    return { ids, pages };
  }

  async function reopenStore(): Promise<void> {
    if (!reopen) throw new Error('this store was registered without a reopen option');
    await opened().close();
    current = undefined;
    current = await reopen();
  }

  return { store, newJob, submit, leaseAll, queuedIds, getJob, listAll, reopen: reopenStore };
}
