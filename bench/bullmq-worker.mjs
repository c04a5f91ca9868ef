// One raw BullMQ worker process for bench:dispatch's baseline: a plain
// BullMQ Worker processing no-op jobs, printing `done ID EPOCH_MS`.
import { Worker } from 'bullmq';
import { lineWriter } from './line-writer.mjs';

const [url, queueName, prefix] = process.argv.slice(2);
const now = () => performance.timeOrigin + performance.now();
const line = lineWriter();
const worker = new Worker(queueName, async () => undefined, { connection: { url }, prefix, concurrency: 1 });
worker.on('completed', (job) => line(`done ${job.id} ${now().toFixed(3)}\n`));
await worker.waitUntilReady();
process.stdout.write('ready\n');
process.on('SIGTERM', async () => {
  await worker.close();
  process.exit(0);
});
