#!/usr/bin/env node
// bench:engine: what the engine itself costs per no-op job, in process (no
// worker, no transport): N one-task jobs through `createEngine(...).run`, for
// a `setup` module (gets its TaskContext) and a class module (built from a
// tsyringe child container, tokens in `static inject`). With `--baseline
// DIR` (a checkout of another commit, built), that checkout's core is loaded
// into the same process and the two are run in interleaved rounds (this
// core first, then the baseline, then the other way round...), so a busy
// neighbour on a shared machine hits both alike; the medians of the rounds
// count, and the ratio this/baseline is printed per module kind.
//
//   node bench/engine.mjs [--baseline /tmp/base] [--json]   (BENCH_JOBS=3000, BENCH_ROUNDS=9)
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const baselineAt = args.indexOf('--baseline');
const baseline = baselineAt >= 0 ? resolve(args[baselineAt + 1] ?? '') : undefined;
const json = args.includes('--json');
const jobs = Number(process.env.BENCH_JOBS ?? 3000);
const rounds = Number(process.env.BENCH_ROUNDS ?? 9);
const here = fileURLToPath(new URL('..', import.meta.url));

/** Load a checkout's built core and make an engine with one module of each kind. */
async function setUp(label, root) {
  const entry = join(root, 'core/dist/index.js');
  if (!existsSync(entry)) throw new Error(`${label}: ${entry} does not exist (build that checkout first: npm run build)`);
  const core = await import(pathToFileURL(entry).href);
  const { Type, TOKENS, createEngine, defineModule } = core;
  let count = 0;
  const setupModule = defineModule({
    name: 'noop-setup',
    schema: Type.Object({ n: Type.Optional(Type.Integer()) }, { additionalProperties: false }),
    setup: (ctx) => ({ run: () => void (count += ctx.data.n ?? 1) }),
  });
  class NoopTask {
    static inject = [TOKENS.TaskData, TOKENS.Logger];
    constructor(data, logger) {
      this.data = data;
      this.logger = logger;
    }
    run() {
      count += this.data.n ?? 1;
    }
  }
  const classModule = defineModule({
    name: 'noop-class',
    schema: Type.Object({ n: Type.Optional(Type.Integer()) }, { additionalProperties: false }),
    task: NoopTask,
  });
  const engine = createEngine({ modules: [setupModule, classModule] });
  const job = (module) => ({ job_title: 'noop', tasks: [{ module, data: { n: 1 } }] });
  const kinds = { setup: job('noop-setup'), class: job('noop-class') };
  return {
    label,
    /** Microseconds per job over `n` jobs of `kind`, run one after the other. */
    async measure(kind, n) {
      const doc = kinds[kind];
      const before = count;
      const started = performance.now();
      for (let i = 0; i < n; i++) {
        const result = await engine.run(doc);
        if (!result.completed) throw new Error(`${label} ${kind}: ${result.code} ${result.message}`);
      }
      const us = ((performance.now() - started) * 1000) / n;
      if (count - before !== n) throw new Error(`${label} ${kind}: ran ${count - before} of ${n} tasks`);
      return us;
    },
  };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const subjects = [await setUp('this', here)];
if (baseline) subjects.push(await setUp('baseline', baseline));
const kinds = ['setup', 'class'];
const samples = Object.fromEntries(subjects.map((s) => [s.label, Object.fromEntries(kinds.map((k) => [k, []]))]));

// One uncounted round: the JIT, V8's heap sizing and the compiled schema checks settle.
for (const s of subjects) for (const k of kinds) await s.measure(k, jobs);
for (let round = 0; round < rounds; round++) {
  const order = round % 2 ? [...subjects].reverse() : subjects;
  for (const k of kinds) for (const s of order) samples[s.label][k].push(await s.measure(k, jobs));
}

const report = {};
for (const k of kinds) {
  const mine = median(samples.this[k]);
  report[k] = { this_us: Number(mine.toFixed(1)) };
  if (baseline) {
    const base = median(samples.baseline[k]);
    const ratios = samples.this[k].map((v, i) => v / samples.baseline[k][i]);
    Object.assign(report[k], { baseline_us: Number(base.toFixed(1)), ratio: Number((mine / base).toFixed(3)), median_round_ratio: Number(median(ratios).toFixed(3)) });
  }
}
if (json) {
  process.stdout.write(`${JSON.stringify({ jobs, rounds, baseline: baseline ?? null, report })}\n`);
} else {
  process.stdout.write(`no-op job cost, ${jobs} jobs x ${rounds} rounds (median of rounds)${baseline ? `, baseline ${baseline}` : ''}\n`);
  for (const k of kinds) {
    const r = report[k];
    const tail = baseline ? `   baseline ${r.baseline_us.toFixed(1)} us/job   ratio ${r.ratio.toFixed(3)} (median of per-round ratios ${r.median_round_ratio.toFixed(3)})` : '';
    process.stdout.write(`  ${k.padEnd(6)} module: ${r.this_us.toFixed(1)} us/job${tail}\n`);
  }
}
