// One worker process of bench:dispatch: the real worker loop and HTTP (or
// direct Redis) transport, with a no-op module that prints when a latency
// sample starts (`start JOB_ID EPOCH_MS`, microsecond precision) so the driver
// can measure submit-to-start latency across processes, and `done` lines.
import { Type, createEngine, defineModule } from '@sisyphus/core';
import { createWorker } from '@sisyphus/core/worker';
import { createHttpTransport } from '@sisyphus/transport-http';
import { transportDataStore } from '@sisyphus/core/transport';
import { createRedisTransport } from '@sisyphus/redis';
import { lineWriter } from './line-writer.mjs';

// redisUrl/prefix given: the direct Redis transport instead of HTTP.
const [apiUrl, workerId, redisUrl, prefix] = process.argv.slice(2);
const now = () => performance.timeOrigin + performance.now();
const line = lineWriter();

const noop = defineModule({
  name: 'noop',
  schema: Type.Object({}),
  setup: (ctx) => ({
    run() {
      // Only the latency samples need their start time; throughput needs one line per job, as the raw BullMQ worker prints.
      if (ctx.task.jobTitle.startsWith('noop latency')) line(`start ${ctx.task.jobId} ${now().toFixed(3)}\n`);
    },
  }),
});

const transport = redisUrl ? createRedisTransport({ connection: redisUrl, prefix }) : createHttpTransport({ apiUrl });
const engine = createEngine({ modules: [noop], dataStore: transportDataStore(transport) });
const worker = createWorker({ engine, transport, workerId, pollIntervalMs: 30_000, heartbeatIntervalMs: 5000 });
worker.on('job:reported', (e) => line(`done ${e.jobId} ${e.outcome} ${now().toFixed(3)}\n`));
worker.start();
process.stdout.write('ready\n');
process.on('SIGTERM', async () => {
  await worker.stop();
  await transport.close();
  process.exit(0);
});
