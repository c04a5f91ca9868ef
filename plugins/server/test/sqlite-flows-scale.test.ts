import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { NewJob } from '../src/store/queue-store.js';
import { openSqliteStore, type SqliteStore } from '../src/store/sqlite-store.js';

/**
 * The SQLite store's fan-out at scale: a parent's end with N open children
 * and a child's end under a parent of N children must cost O(N) and O(1)
 * (not N child ends that each rewrite the parent's flow: quadratic, a 10,000
 * child cancel once blocked the server for about a minute). No absolute
 * timing: each cost is compared with the same operation at 1,000 children,
 * measured in the same test on the same machine.
 */
const dir = mkdtempSync(join(tmpdir(), 'sisyphus-sqlite-flows-scale-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const T = Date.UTC(2025, 8, 1);
const LEASE = 60_000;
let files = 0;

const newJob = (job_id: string): NewJob => ({
  job_id,
  job_title: `chunk ${job_id}`,
  job: { job_id, job_title: `chunk ${job_id}`, tasks: [{ module: 'ffmpeg', args: ['-i', 'x'] }] },
  priority: 0,
  added: new Date(T).toISOString(),
});

/** A fresh store file whose job `p` waits for `n` children `c0`.. (with a plan state as big as a chunked encode's) and finally job `fin`. */
async function forge(n: number): Promise<SqliteStore> {
  const store = openSqliteStore(join(dir, `scale-${++files}.db`));
  await store.submit(newJob('p'));
  expect((await store.lease('w', LEASE, T))?.job_id).toBe('p');
  const children = Array.from({ length: n }, (_, i) => newJob(`c${i}`));
  const state = { cuts: children.map((_, i) => ({ start: i * 2.5, end: (i + 1) * 2.5 })) };
  expect(await store.waitForChildren('p', 'w', { result: {}, task_index: 0, state, children, finally: newJob('fin') }, T)).toBe('ok');
  return store;
}

/** Best of `runs` timings (ms) of `measure` (each on its own forged store). */
async function best(runs: number, measure: () => Promise<number>): Promise<number> {
  let min = Infinity;
  for (let i = 0; i < runs; i++) min = Math.min(min, await measure());
  return min;
}

describe('sqlite store: fan-out cost grows linearly with the children', () => {
  it('cancelling a parent waiting for 10,000 children costs less than 20x cancelling one with 1,000 (linear, not quadratic); every child ends as it should', async () => {
    const cancelCost = (n: number, check?: (store: SqliteStore) => Promise<void>) => async () => {
      const store = await forge(n);
      try {
        // Two children run: they are asked to cancel, and keep the finally job waiting.
        for (const id of ['c0', 'c1']) expect((await store.lease('w2', LEASE, T + 1))?.job_id).toBe(id);
        const start = performance.now();
        expect(await store.cancel('p', T + 2)).toBe('cancelled');
        const ms = performance.now() - start;
        await check?.(store);
        return ms;
      } finally {
        await store.close();
      }
    };
    const small = await best(3, cancelCost(1_000));
    const large = await best(2, cancelCost(10_000, async (store) => {
      expect(await store.get('p')).toMatchObject({ state: 'cancelled', reason: 'cancelled', flow: { round: 1, pending: 2 } });
      expect((await store.get('p'))!.flow!.children).toHaveLength(10_000);
      expect(await store.counts(0)).toEqual({ queued: 0, running: 2, waiting: 0, completed: 0, failed: 0, cancelled: 9_999 });
      expect(await store.get('c9999')).toMatchObject({ state: 'cancelled', reason: 'parent p was cancelled', finished_at: new Date(T + 2).toISOString() });
      expect(await store.get('c0')).toMatchObject({ state: 'running', cancel_requested: true });
      const results = await store.childResults('p');
      expect(results).toHaveLength(9_998);
      expect(results[0]).toEqual({ job_id: 'c2', job_title: 'chunk c2', state: 'cancelled', reason: 'parent p was cancelled' });
      expect(await store.get('fin')).toBeUndefined();
      // The running children end: the finally job is queued after the last, once.
      expect(await store.finish('c0', 'w2', { state: 'cancelled', reason: 'cancelled' }, T + 3)).toBe('ok');
      expect(await store.get('fin')).toBeUndefined();
      expect(await store.finish('c1', 'w2', { state: 'completed', result: { ok: true } }, T + 3)).toBe('ok');
      expect(await store.get('fin')).toMatchObject({ state: 'queued', parent_id: 'p' });
      expect(await store.get('p')).toMatchObject({ state: 'cancelled', flow: { pending: 0, finally_id: 'fin' } });
      expect(await store.childResults('p')).toHaveLength(10_000);
    }));
    expect(large, `cancel: 1,000 children ${small.toFixed(1)} ms, 10,000 children ${large.toFixed(1)} ms`).toBeLessThan(20 * small);
  }, 120_000);

  it('a child failing fails a parent of 10,000 children at a cost linear in them, like a cancel', async () => {
    const failCost = (n: number) => async () => {
      const store = await forge(n);
      try {
        expect((await store.lease('w2', LEASE, T + 1))?.job_id).toBe('c0');
        const start = performance.now();
        expect(await store.finish('c0', 'w2', { state: 'failed', reason: 'boom' }, T + 2)).toBe('ok');
        const ms = performance.now() - start;
        expect(await store.get('p')).toMatchObject({ state: 'failed', reason: 'child c0 (chunk c0) failed: boom', flow: { pending: 0, finally_id: 'fin' } });
        expect(await store.get(`c${n - 1}`)).toMatchObject({ state: 'cancelled', reason: 'parent p failed' });
        return ms;
      } finally {
        await store.close();
      }
    };
    const small = await best(3, failCost(1_000));
    const large = await best(2, failCost(10_000));
    expect(large, `fail: 1,000 children ${small.toFixed(1)} ms, 10,000 children ${large.toFixed(1)} ms`).toBeLessThan(30 * small);
  }, 120_000);

  it("a child's end does not grow with its siblings: 300 ends under a parent of 10,000 cost less than 4x 300 under one of 1,000", async () => {
    const endsCost = (n: number) => async () => {
      const store = await forge(n);
      try {
        let ms = 0;
        for (let i = 0; i < 300; i++) {
          expect((await store.lease('w2', LEASE, T + 1))?.job_id).toBe(`c${i}`);
          const start = performance.now();
          expect(await store.finish(`c${i}`, 'w2', { state: 'completed', result: { i } }, T + 2)).toBe('ok');
          ms += performance.now() - start;
        }
        expect(await store.get('p')).toMatchObject({ state: 'waiting-children', flow: { pending: n - 300 } });
        return ms;
      } finally {
        await store.close();
      }
    };
    const small = await best(2, endsCost(1_000));
    const large = await best(2, endsCost(10_000));
    expect(large, `300 child ends: 1,000 siblings ${small.toFixed(1)} ms, 10,000 siblings ${large.toFixed(1)} ms`).toBeLessThan(4 * small);
  }, 120_000);
});
