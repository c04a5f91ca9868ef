#!/usr/bin/env node
// Child process of bench/scale.mjs: one job server (startServer from
// @sisyphus/server) in a process of its own, so that its RSS can be read from
// /proc and the load generator does not share its event loop.
//   argv[2]: startServer options as JSON (port 0 is added).
// IPC: sends {type: 'ready', url} once listening (or {type: 'error', message}).
//   {type: 'phase', name}: from now on, event-loop delay counts under `name`;
//   {type: 'loop'}: answers {type: 'loop', phases: {name: {p99, max}}} (ms) of
//     the server's event-loop delay (perf_hooks, 10 ms resolution, less the 10 ms): how long the
//     server itself stalled, whatever the machine's other load did;
//   {type: 'stop'}: closes the server and exits.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { startServer } from '@sisyphus/server';

let server;
try {
  server = await startServer({ port: 0, ...JSON.parse(process.argv[2] ?? '{}') });
  process.send({ type: 'ready', url: server.url });
} catch (error) {
  process.send({ type: 'error', message: error?.stack ?? String(error) });
  process.exit(1);
}

const delay = monitorEventLoopDelay({ resolution: 10 });
delay.enable();
let phase = 'start';
const phases = {};
function closePhase() {
  // The histogram holds the intervals (ns) between ticks of a 10 ms timer: the stall is what exceeds 10 ms.
  const stall = (ns) => Math.max(0, ns / 1e6 - 10);
  phases[phase] = { p99: stall(delay.percentile(99)), max: stall(delay.max) };
  delay.reset();
}

async function stop() {
  try {
    await server.close();
  } finally {
    process.exit(0);
  }
}
process.on('message', (message) => {
  if (message?.type === 'phase') {
    closePhase();
    phase = message.name;
  } else if (message?.type === 'loop') {
    closePhase();
    process.send({ type: 'loop', phases });
  } else if (message?.type === 'stop') void stop();
});
process.on('disconnect', () => void stop());
