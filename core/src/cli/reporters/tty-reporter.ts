import cliProgress from 'cli-progress';
import type { Engine } from '../../engine/engine.js';
import type { JobResult } from '../../engine/job-result.js';
import { failureWord, formatDuration, formatPercent, gauge, progressDetails, type Reporter } from './reporter.js';

type Bar = ReturnType<cliProgress.MultiBar['create']>;

/** One task's bar and what it last showed. */
interface TaskBar {
  bar: Bar;
  percent?: number;
  /** Progress reports seen: moves the marker of a bar whose total is unknown. */
  ticks: number;
}

/**
 * Live progress bars, one per task, with module log lines above them (a
 * terminal). A task whose total is unknown gets a moving marker instead of
 * a fill and `--%`; a task that fails or is cancelled keeps the bar where
 * it stopped; only a successful run is drawn at 100 %.
 */
export class TtyReporter implements Reporter {
  readonly #multi: cliProgress.MultiBar;
  readonly #bars = new Map<number, TaskBar>();
  #count = 0;

  readonly #stream: NodeJS.WriteStream;

  constructor(stream: NodeJS.WriteStream, private readonly verbose: boolean) {
    this.#stream = stream;
    this.#multi = new cliProgress.MultiBar(
      {
        stream,
        format: ' {task} |{gauge}| {pct} {details}',
        hideCursor: true,
        clearOnComplete: false,
        stopOnComplete: false,
        autopadding: true,
        fps: 10,
      },
      cliProgress.Presets.shades_classic,
    );
  }

  #label(index: number, module: string): string {
    return `${index + 1}/${this.#count} ${module}`.padEnd(18);
  }

  #print(line: string): void {
    this.#multi.log(`${line}\n`);
  }

  attach(engine: Engine): void {
    engine.on('job:start', (e) => {
      this.#count = e.modules.length;
      this.#print(`job "${e.job.job_title}": ${e.modules.join(' -> ')}`);
    });
    engine.on('task:phase', (e) => {
      if (e.phase === 'run' && e.status === 'start') {
        const bar = this.#multi.create(100, 0, { task: this.#label(e.index, e.module), gauge: gauge(0, 0), pct: formatPercent(0).padStart(4), details: '' });
        this.#bars.set(e.index, { bar, ticks: 0, percent: 0 });
      } else if (e.phase === 'run' && e.status === 'end') {
        this.#draw(e.index, 100, `done in ${formatDuration((e.durationMs ?? 0) / 1000)}`);
      } else if (e.status === 'failed') {
        const shown = this.#bars.get(e.index);
        // The bar stays where the task stopped.
        if (shown && e.phase === 'run') this.#draw(e.index, shown.percent, failureWord(e.error));
        this.#print(`${e.module} (task ${e.index + 1}) ${e.phase} ${failureWord(e.error)}${shown?.percent !== undefined && e.phase === 'run' ? ` at ${formatPercent(shown.percent)}` : ''}: ${e.error?.describe() ?? ''}`);
      }
    });
    engine.on('progress', (p) => {
      const shown = this.#bars.get(p.index);
      if (!shown) return;
      shown.ticks += 1;
      this.#draw(p.index, p.percent, progressDetails(p));
    });
    engine.on('log', (l) => {
      if (l.level === 'debug' && !this.verbose) return;
      this.#print(`${l.module ? `${l.module}: ` : ''}${l.level === 'info' ? '' : `${l.level}: `}${l.message}`);
    });
  }

  /** Redraw task `index` at `percent` (undefined: unknown total, a moving marker). */
  #draw(index: number, percent: number | undefined, details: string): void {
    const shown = this.#bars.get(index);
    if (!shown) return;
    shown.percent = percent;
    shown.bar.update(Math.floor(percent ?? 0), { gauge: gauge(percent, shown.ticks), pct: formatPercent(percent).padStart(4), details });
  }

  note(message: string): void {
    this.#print(message);
  }

  finish(result: JobResult): void {
    // log() only buffers until the next redraw: print what is still pending below the final bars.
    const pending = (this.#multi as unknown as { loggingBuffer?: string[] }).loggingBuffer?.splice(0) ?? [];
    this.#multi.stop();
    for (const line of pending) this.#stream.write(line);
    if (result.completed) this.#stream.write(`job done in ${formatDuration(result.runtime)}\n`);
    else if (result.cancelled) this.#stream.write(`job cancelled after ${formatDuration(result.runtime)}\n`);
  }
}
