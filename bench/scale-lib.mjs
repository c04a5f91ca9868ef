// Helpers shared by bench/scale.mjs and bench/scale-dashboard.mjs: percentiles and
// formatting, the job documents they submit, the server child (bench/scale-server.mjs)
// and /proc readings of it, plain HTTP calls, Redis clean-up, and waiting for a quiet machine.
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';

export const here = (file) => fileURLToPath(new URL(file, import.meta.url));
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const now = () => performance.now();
/** Nearest-rank percentile. */
export const pct = (xs, p) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
};

export const fmtN = (n) => (n >= 1e6 && n % 1e6 === 0 ? `${n / 1e6}M` : n >= 1e3 && n % 1e3 === 0 ? `${n / 1e3}k` : String(n));
export const fmtMs = (ms) => (!Number.isFinite(ms) ? '-' : ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2));
export const fmtMB = (bytes) => (Number.isFinite(bytes) ? (bytes / 1024 ** 2).toFixed(0) : '-');
export const rate = (n, ms) => `${fmtN(Math.round(n / (ms / 1000)))}/s`;
export const log = (...args) => console.log(`[${new Date().toISOString().slice(11, 19)}]`, ...args);

/** A submission body of ~500 bytes once stored (cleanup: delete, copy, move). */
export function jobBody(n) {
  const show = `show-${n % 997}-s${String((n % 9) + 1).padStart(2, '0')}e${String(n % 24).padStart(2, '0')}`;
  const dir = `/srv/media/incoming/${show}`;
  return {
    job_title: `Tidy ${show} after remux #${n}`,
    tasks: [
      {
        module: 'cleanup',
        data: {
          delete: [`${dir}/sample.mkv`, `${dir}/${show}.nfo`],
          copy: [{ source: `${dir}/${show}.en.srt`, destination: '/srv/media/library/subtitles/' }],
          move: [{ source: `${dir}/${show}.mkv`, destination: `/srv/media/library/shows/${show}/` }],
        },
      },
    ],
  };
}

export function progress(label, total) {
  const t0 = now();
  let last = t0;
  return {
    tick(done) {
      if (now() - last < 5000 || done >= total) return;
      last = now();
      log(`  ${label}: ${done}/${total} (${rate(done, now() - t0)})`);
    },
    end(total) {
      const ms = now() - t0;
      log(`  ${label}: ${total} in ${(ms / 1000).toFixed(1)} s (${rate(total, ms)})`);
    },
  };
}

/** Delete every key under `prefix:` (SCAN + UNLINK; never FLUSHDB on a shared Redis); how many. */
export async function deleteRedisKeys(redisUrl, prefix) {
  const redis = new Redis(redisUrl);
  try {
    let cursor = '0';
    let n = 0;
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 5000);
      if (keys.length) n += await redis.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
    return n;
  } finally {
    await redis.quit();
  }
}

export const children = new Set();

export function startChild(script, args = []) {
  const child = fork(here(script), args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

export const nextMessage = (child, type) =>
  new Promise((resolve, reject) => {
    const onMessage = (m) => {
      if (m?.type === type) done(resolve, m);
      else if (m?.type === 'error') done(reject, new Error(m.message));
    };
    const onExit = (code) => done(reject, new Error(`${child.spawnargs.slice(-2).join(' ')} exited with ${code} before ${type}`));
    const done = (fn, value) => {
      child.off('message', onMessage);
      child.off('exit', onExit);
      fn(value);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });

export async function startServerChild(options) {
  const child = startChild('./scale-server.mjs', [JSON.stringify(options)]);
  const { url } = await nextMessage(child, 'ready');
  return {
    url,
    pid: child.pid,
    phase: (name) => child.send({ type: 'phase', name }),
    async loop() {
      const reply = nextMessage(child, 'loop');
      child.send({ type: 'loop' });
      return (await reply).phases;
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.send({ type: 'stop' });
      let timer;
      // (A timer left running would keep this process alive 15 s after the last scenario.)
      await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 15_000)))]);
      clearTimeout(timer);
      if (child.exitCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

/** VmRSS and VmHWM of a process, in bytes. */
export function memoryOf(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1]) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

/** CPU time (user + system) of a process, in clock ticks (USER_HZ = 100); 0 once it is gone. */
export function cpuTicks(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

/** Busy and total ticks of the whole machine (/proc/stat). */
export function machineTicks() {
  const [, ...f] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).map(Number);
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - f[3] - f[4], total };
}

export const cores = cpus().length;

export async function call(api, method, path, body) {
  const res = await fetch(`${api}${path}`, {
    method,
    ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : undefined;
}

/** Time one GET, reading (not parsing) the whole body (an ArrayBuffer). */
export async function timedGet(api, path) {
  const t0 = now();
  const res = await fetch(`${api}${path}`);
  const body = await res.arrayBuffer();
  const ms = now() - t0;
  if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${Buffer.from(body).toString('utf8', 0, 300)}`);
  return { ms, bytes: body.byteLength, body };
}

/** Follow `next` from `path` (limit=1000 pages) until `depth` entries are behind; the cursor there. */
export async function cursorAt(api, path, depth, field) {
  let cursor;
  let seen = 0;
  const t0 = now();
  while (seen < depth) {
    const page = await call(api, 'GET', `${path}${path.includes('?') ? '&' : '?'}limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    seen += page[field].length;
    if (!page.next) break;
    cursor = page.next;
  }
  return { cursor, seen, ms: now() - t0 };
}

/** Wait (up to `quietS`, BENCH_QUIET_S) until other processes use less than 25% of the CPUs over 2 s; their share then. */
export async function waitForQuiet(label, quietS) {
  const deadline = now() + quietS * 1000;
  let told = false;
  for (;;) {
    const a = machineTicks();
    await sleep(2000);
    const b = machineTicks();
    const share = ((b.busy - a.busy) / (b.total - a.total)) * 100;
    if (share < 25 || now() >= deadline) {
      if (told) log(`${label} other load ${share.toFixed(0)}%${share < 25 ? '' : ' still; going on'}`);
      return share;
    }
    if (!told) log(`${label} other processes use ${share.toFixed(0)}% of the CPUs; waiting up to ${quietS} s for them to quiet down`);
    told = true;
  }
}
