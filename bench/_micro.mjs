import { randomUUID } from 'node:crypto';
import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';
const session = new Session(); session.connect();
import { BullmqStore, createRedisTransport } from '@sisyphus/redis';
import { prepareSubmission } from '@sisyphus/server';
import { Queue, Worker } from 'bullmq';
const URL = 'redis://127.0.0.1:6379/0';
const N = Number(process.env.N ?? 2000);
const prefix = `sis-micro-${randomUUID()}`;
const store = await BullmqStore.open({ connection: URL, prefix, stalledCheck: false });
for (let i = 0; i < N; i++) await store.submit(prepareSubmission({ job_title: `n${i}`, tasks: [{ module: 'noop', data: {} }] }, undefined, true, new Date()));
const t = createRedisTransport({ connection: URL, prefix });
const signal = new AbortController().signal;
let job = await t.next(signal, { workerId: 'w' });
if (process.env.PROF) { await session.post('Profiler.enable'); await session.post('Profiler.start'); }
const c0 = process.cpuUsage(); const w0 = performance.now();
let n = 0;
const res = (id) => ({ start_time: '', end_time: '', runtime: 0, worker: 'h', worker_id: 'w', version: '0', completed: true, job_id: id, job_title: 'x', failed: false, cancelled: false, tasks: [] });
while (job) { n++; const r = await t.complete(job, res(job.job_id), process.env.SPLIT ? undefined : { next: { workerId: 'w' } }); job = process.env.SPLIT ? await t.next(signal, { workerId: 'w' }) : r.next; }
const c = process.cpuUsage(c0); const wall = performance.now() - w0;
if (process.env.PROF) { const { profile } = await session.post('Profiler.stop'); writeFileSync('/tmp/loop.cpuprofile', JSON.stringify(profile)); }
console.log(`transport: ${n} jobs, ${(wall / n * 1000).toFixed(0)} us wall/job, ${((c.user + c.system) / n).toFixed(0)} us cpu/job (user ${(c.user / n).toFixed(0)}, sys ${(c.system / n).toFixed(0)})`);
await t.close(); await store.close();
// raw bullmq in-process
const q = new Queue('noop', { connection: { url: URL }, prefix });
await q.pause();
await q.addBulk(Array.from({ length: N }, (_, i) => ({ name: 'noop', data: { i } })));
let done = 0; let fin;
const all = new Promise((r) => (fin = r));
const w = new Worker('noop', async () => undefined, { connection: { url: URL }, prefix, concurrency: 1 });
w.on('completed', () => { if (++done === N) fin(); });
await w.waitUntilReady();
const c1 = process.cpuUsage(); const w1 = performance.now();
await q.resume(); await all;
const cc = process.cpuUsage(c1); const wall2 = performance.now() - w1;
console.log(`raw bullmq: ${N} jobs, ${(wall2 / N * 1000).toFixed(0)} us wall/job, ${((cc.user + cc.system) / N).toFixed(0)} us cpu/job (user ${(cc.user / N).toFixed(0)}, sys ${(cc.system / N).toFixed(0)})`);
await w.close(); await q.obliterate({ force: true }); await q.close();
process.exit(0);
