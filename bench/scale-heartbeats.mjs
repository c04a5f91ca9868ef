#!/usr/bin/env node
// Child process of bench/scale.mjs: simulated workers heartbeating
// (`POST /workers/{id}` with a running job's id, as a busy worker does) at a
// fixed rate, in a process of their own, so the time the load generator
// spends receiving big listings does not show up as heartbeat latency.
// IPC in:  {type: 'start', url, workers: [{id, jobId}], beatMs}
//          {type: 'phase', name}   (later samples are counted under `name`)
//          {type: 'stop'}          (answers {type: 'result', phases: {name: [ms...]}, errors})
// A worker sends its next beat `beatMs` after the previous one was sent, or at
// once when the previous answer took longer (never two at a time, as a real worker).
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let phase = 'start';
let running = false;
const phases = {};
const errors = [];
let loops = [];

async function worker(url, id, jobId, beatMs, offsetMs) {
  const onlineAt = new Date().toISOString();
  const body = JSON.stringify({ status: 'in_progress', hostname: `bench-host-${id}`, version: '0.1.0', online_at: onlineAt, job_id: jobId });
  await sleep(offsetMs);
  let next = performance.now();
  while (running) {
    const t0 = performance.now();
    const label = phase;
    try {
      const res = await fetch(`${url}/workers/${encodeURIComponent(id)}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      const reply = await res.json();
      if (!res.ok) throw new Error(`${res.status} ${JSON.stringify(reply)}`);
      if (reply.cancel?.length) throw new Error(`heartbeat of ${id} answered cancel ${JSON.stringify(reply.cancel)} (lease lost?)`);
    } catch (error) {
      if (errors.length < 5) errors.push(`${id}: ${error.message}`);
    }
    (phases[label] ??= []).push(performance.now() - t0);
    next = Math.max(next + beatMs, performance.now());
    await sleep(next - performance.now());
  }
}

process.on('message', async (message) => {
  if (message.type === 'start') {
    running = true;
    const n = message.workers.length;
    loops = message.workers.map((w, i) => worker(message.url, w.id, w.jobId, message.beatMs, (i * message.beatMs) / n));
  } else if (message.type === 'phase') {
    phase = message.name;
  } else if (message.type === 'stop') {
    running = false;
    await Promise.all(loops);
    process.send({ type: 'result', phases, errors });
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
