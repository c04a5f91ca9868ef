import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { Type, createEngine, defineModule, type Engine, type JobResult, type Progress, type ProgressEvent } from '@sisyphus/core';
import { PlainReporter } from '../src/cli/reporters/plain-reporter.js';
import { TtyReporter } from '../src/cli/reporters/tty-reporter.js';
import { formatPercent, gauge } from '../src/cli/reporters/reporter.js';
import { logJobs } from '../src/cli/commands/worker-command.js';
import { createCliLogger } from '../src/cli/logger.js';
import { JobProgress } from '../src/worker/job-progress.js';

/** What the scripted module reports, in order, before it finishes or (with `hang`) waits to be cancelled. */
let script: Progress[] = [];
let hang = false;
let reported: () => void = () => undefined;

const scripted = defineModule({
  name: 'scripted',
  schema: Type.Object({}),
  setup(ctx) {
    return {
      async run() {
        for (const p of script) {
          ctx.progress.report(p);
          // Long enough for the terminal bars (10 redraws a second) to show each state.
          await new Promise((resolve) => setTimeout(resolve, 150));
        }
        reported();
        if (hang) await new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('aborted'))));
      },
    };
  },
});

/** A writable that keeps what it gets; `tty` makes cli-progress draw (it skips non-terminals). */
function sink(tty = false): Writable & { text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  if (tty) Object.assign(stream, { isTTY: true, columns: 200, rows: 40 });
  // eslint-disable-next-line no-control-regex
  return Object.assign(stream, { text: () => chunks.join('').replace(/\x1B\[[0-9;?]*[A-Za-z]|\x1B[78]/g, '') });
}

/** JSON log lines as `level job ID task N module: message` (each line must be JSON with its job and task). */
function workerLog(text: string): string {
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { level: string; jobId: string; task: number; module: string; msg: string; time: string })
    .map((l) => {
      expect(Date.parse(l.time)).not.toBeNaN();
      return `${l.level} job ${l.jobId} task ${l.task} ${l.module}: ${l.msg}`;
    })
    .join('\n');
}

interface Seen {
  result: JobResult;
  events: ProgressEvent[];
  plain: string;
  plainErr: string;
  tty: string;
  /** The worker's log lines (JSON), as `job ID task N module: message`. */
  worker: string;
  /** Heartbeat fields after each progress event, and at the end. */
  beats: ReturnType<JobProgress['fields']>[];
}

/** Run the scripted module once with every display attached; `cancel` aborts once everything is reported. */
async function run(reports: Progress[], cancel = false): Promise<Seen> {
  script = reports;
  hang = cancel;
  const engine: Engine = createEngine({ modules: [scripted] });
  const controller = new AbortController();
  reported = () => {
    if (cancel) setTimeout(() => controller.abort(), 20);
  };
  const out = sink();
  const err = sink();
  const tty = sink(true);
  const worker = sink();
  const plain = new PlainReporter(out, err, false);
  const bars = new TtyReporter(tty as unknown as NodeJS.WriteStream, false);
  plain.attach(engine);
  bars.attach(engine);
  logJobs(engine, await createCliLogger({ format: 'json', stream: worker }, {}));
  const heartbeat = new JobProgress();
  const events: ProgressEvent[] = [];
  const beats: Seen['beats'] = [];
  engine.on('task:phase', (e) => heartbeat.onPhase(e));
  engine.on('progress', (e) => {
    events.push(e);
    heartbeat.onProgress(e);
    beats.push(heartbeat.fields());
  });
  const result = await engine.run({ job_title: 'progress', tasks: [{ module: 'scripted', data: {} }] }, { signal: controller.signal });
  beats.push(heartbeat.fields());
  plain.finish(result);
  bars.finish(result);
  return { result, events, plain: out.text(), plainErr: err.text(), tty: tty.text(), worker: workerLog(worker.text()), beats };
}

describe('progress with an unknown total, and tasks that stop early', () => {
  it('the engine keeps an unknown percent unknown, turns NaN into unknown and clamps the rest', async () => {
    const { events } = await run([{ frames: 10, fps: 5 }, { percent: Number.NaN, frames: 11 }, { percent: 150 }, { percent: -3 }]);
    expect(events.map((e) => ('percent' in e ? e.percent : 'none'))).toEqual(['none', 'none', 100, 0]);
    expect(events[0]).toEqual({ frames: 10, fps: 5, jobId: expect.any(String), index: 0, module: 'scripted' });
  });

  it('a cancelled task is shown where it stopped, never at 100, in every display', async () => {
    const seen = await run([{ frames: 10, fps: 5, speed: 1.5 }, { percent: 24.6, frames: 100, fps: 25 }], true);
    expect(seen.result.cancelled).toBe(true);

    expect(seen.plain).toContain('[1/1 scripted] frame 10 | fps 5 | 1.50x (total unknown)');
    expect(seen.plain).toContain('[1/1 scripted] 24% (frame 100 | fps 25)');
    expect(seen.plainErr).toContain('[1/1 scripted] run cancelled at 24%');
    expect(seen.plain + seen.plainErr).not.toMatch(/100%|\b0%/);

    expect(seen.worker).toMatch(/^info job \S+ task 1 scripted: frame 10 \| fps 5 \| 1\.50x \(total unknown\)$/m);
    expect(seen.worker).toMatch(/^info job \S+ task 1 scripted: 24%$/m);
    expect(seen.worker).toMatch(/^warn job \S+ task 1 scripted: run cancelled at 24%/m);
    expect(seen.worker).not.toMatch(/100%|\b0%/);

    // Heartbeats: no `progress` while the total is unknown (frames etc. still in info), then the real percent, kept after the cancel.
    expect(seen.beats[0]).toEqual({ task: 'scripted', info: { current_frame: 10, fps: 5, speed: 1.5 } });
    expect(seen.beats[1]).toMatchObject({ task: 'scripted', progress: 24.6, info: { current_frame: 100, fps: 25 } });
    expect(seen.beats.at(-1)).toMatchObject({ progress: 24.6 });

    expect(seen.tty).toContain('--%');
    expect(seen.tty).toContain('<=>');
    expect(seen.tty).toContain(' 24% ');
    expect(seen.tty).toContain('scripted (task 1) run cancelled at 24%');
    expect(seen.tty).not.toContain('100%');
  });

  it('a failed run keeps its percent; an unknown one says only that it failed', async () => {
    script = [];
    const failing = defineModule({
      name: 'scripted',
      schema: Type.Object({}),
      setup: (ctx) => ({
        run() {
          ctx.progress.report({ percent: 99.95 });
          throw new Error('disk full');
        },
      }),
    });
    const engine = createEngine({ modules: [failing] });
    const out = sink();
    const err = sink();
    const worker = sink();
    new PlainReporter(out, err, false).attach(engine);
    logJobs(engine, await createCliLogger({ format: 'json', stream: worker }, {}));
    const result = await engine.run({ job_title: 'x', tasks: [{ module: 'scripted', data: {} }] });
    expect(result.failed).toBe(true);
    // 99.95 is not rounded up into a success.
    expect(out.text()).toContain('[1/1 scripted] 99%');
    expect(err.text()).toContain('run failed at 99%: ');
    expect(workerLog(worker.text())).toMatch(/^warn job \S+ task 1 scripted: run failed at 99%: disk full$/m);
    expect(out.text() + err.text() + workerLog(worker.text())).not.toContain('100%');
  });

  it('a successful run with an unknown total ends at 100 only through its run end', async () => {
    const seen = await run([{ frames: 5, fps: 10 }]);
    expect(seen.result.completed).toBe(true);
    expect(seen.events.every((e) => e.percent === undefined)).toBe(true);
    expect(seen.tty).toContain('100%');
    expect(seen.tty).toContain('done in');
    expect(seen.plain).toContain('(total unknown)');
    expect(seen.plain).toContain('done in');
    expect(seen.beats.at(-1)).toEqual({ task: 'scripted', info: { current_frame: 5, fps: 10 } });
  });
});

describe('display pieces', () => {
  it('gauge: a fill for a known percent, a moving marker for an unknown one', () => {
    expect(gauge(50, 0, 10)).toBe('█████░░░░░');
    expect(gauge(0, 0, 4)).toBe('░░░░');
    expect(gauge(100, 0, 4)).toBe('████');
    expect(gauge(undefined, 0, 8)).toBe('<=>░░░░░');
    expect(gauge(undefined, 2, 8)).toBe('░░<=>░░░');
    expect(gauge(undefined, 5, 8)).toBe('░░░░░<=>');
    expect(gauge(undefined, 7, 8)).toBe('░░░<=>░░');
    expect(gauge(undefined, 10, 8)).toBe('<=>░░░░░');
    expect(formatPercent(undefined)).toBe('--%');
    expect(formatPercent(99.99)).toBe('99%');
  });

  it('the plain reporter logs an unknown total at most once per interval', () => {
    const handlers = new Map<string, (e: unknown) => void>();
    const engine = { on: (name: string, f: (e: unknown) => void) => handlers.set(name, f) } as unknown as Engine;
    const out = sink();
    const plain = new PlainReporter(out, sink(), false, 60_000);
    plain.attach(engine);
    const progress = handlers.get('progress')!;
    progress({ jobId: 'j', index: 0, module: 'm', frames: 1 });
    progress({ jobId: 'j', index: 0, module: 'm', frames: 2 });
    progress({ jobId: 'j', index: 0, module: 'm', percent: 12, frames: 3 });
    expect(out.text().trim().split('\n')).toEqual(['[1/0 m] frame 1 (total unknown)', '[1/0 m] 12% (frame 3)']);
  });

  it('heartbeat fields: a new run starts without progress; NaN is no progress', () => {
    const p = new JobProgress();
    p.onPhase({ jobId: 'j', index: 0, module: 'm', phase: 'run', status: 'start' });
    expect(p.fields()).toEqual({ task: 'm' });
    p.onProgress({ jobId: 'j', index: 0, module: 'm', percent: 33.333, frames: 3, totalFrames: 9 });
    expect(p.fields()).toEqual({ task: 'm', progress: 33.33, info: { current_frame: 3, total_frames: 9 } });
    p.onProgress({ jobId: 'j', index: 0, module: 'm', percent: Number.NaN });
    expect(p.fields()).toEqual({ task: 'm' });
  });
});
