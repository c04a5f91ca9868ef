import type { QueueStore, StoredJob } from '../store/queue-store.js';

/** Every queued job of `store` in queue order, page by page (for tests and tools). */
export async function queuedJobs(store: QueueStore): Promise<StoredJob[]> {
  const jobs: StoredJob[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.list({ state: 'queued', limit: 1000, ...(cursor ? { cursor } : {}) });
    jobs.push(...page.jobs);
    cursor = page.next;
  } while (cursor);
  return jobs;
}
