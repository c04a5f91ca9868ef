import { Type, createEngine, createWorker, defineModule } from '@sisyphus/core';
const noop = defineModule({ name: 'noop', schema: Type.Object({}), setup: () => ({ run() {} }) });
const engine = createEngine({ modules: [noop] });
const job = { job_title: 'x', tasks: [{ module: 'noop', data: {} }] };
for (let i = 0; i < 2000; i++) await engine.run(job, { jobId: String(i) });
let t = performance.now(); const N = 10000;
for (let i = 0; i < N; i++) await engine.run(job, { jobId: String(i) });
let ms = performance.now() - t;
console.log('engine.run', (N / ms * 1000).toFixed(0), 'jobs/s', (ms / N * 1000).toFixed(1), 'us/job');
// worker loop with in-memory transport
let n = 0; const M = 10000; let done;
const finished = new Promise((r) => (done = r));
const transport = {
  name: 'mem',
  async capabilities() { return { longPoll: true, leases: true, pollChecksDisabled: true, completeFetchesNext: true }; },
  async next() { return n < M ? { job_id: String(n++), job } : undefined; },
  async heartbeat() {},
  async complete(_j, _r, o) { if (n >= M) { done(); return { accepted: true }; } return { accepted: true, next: o?.next ? { job_id: String(n++), job } : undefined }; },
  async getData() {}, async close() {},
};
const worker = createWorker({ engine, transport, workerId: 'w', pollIntervalMs: 1000, heartbeatIntervalMs: 5000 });
t = performance.now(); worker.start(); await finished; ms = performance.now() - t;
console.log('worker loop', (M / ms * 1000).toFixed(0), 'jobs/s', (ms / M * 1000).toFixed(1), 'us/job');
await worker.stop(); process.exit(0);
