import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { JobResult } from '../engine/job-result.js';
import type { LeasedJob } from '../transport/transport.js';

/** A finished job whose report has not reached the server yet. */
export interface KeptResult {
  leased: LeasedJob;
  result: JobResult;
}

/**
 * Where a worker keeps results it could not report (server unreachable), so
 * that they survive the worker's own restart and are reported when it
 * starts again.
 */
export interface ResultOutbox {
  save(kept: KeptResult): Promise<void>;
  remove(jobId: string): Promise<void>;
  list(): Promise<KeptResult[]>;
}

const safe = (jobId: string) => jobId.replace(/[^\w.-]/g, '_');

/** An outbox of one JSON file per result in `dir`, written atomically (temp file, then rename). */
export function createFileOutbox(dir: string): ResultOutbox {
  return {
    async save(kept) {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const file = join(dir, `${safe(kept.leased.job_id)}.json`);
      await writeFile(`${file}.tmp`, JSON.stringify({ leased: { job_id: kept.leased.job_id, job: kept.leased.job }, result: kept.result }));
      await rename(`${file}.tmp`, file);
    },
    async remove(jobId) {
      await rm(join(dir, `${safe(jobId)}.json`), { force: true });
    },
    async list() {
      const names = await readdir(dir).catch(() => [] as string[]);
      const kept: KeptResult[] = [];
      for (const name of names.filter((n) => n.endsWith('.json')).sort()) {
        try {
          kept.push(JSON.parse(await readFile(join(dir, name), 'utf8')) as KeptResult);
        } catch {
          // A torn file cannot be reported; leave it for a person to look at.
        }
      }
      return kept;
    },
  };
}
