import type { Engine } from '../../engine/engine.js';
import type { JobResult } from '../../engine/job-result.js';
import { UNKNOWN_TOTAL_LOG_INTERVAL_MS, failureWord, formatDuration, progressDetails, type Reporter } from './reporter.js';

/**
 * Plain log lines, for logs and pipes: phase changes, progress every 10 %
 * (or, while a task's total is unknown, its frames/fps/speed every
 * `unknownEveryMs`), module logs. A task that fails or is cancelled is
 * reported with the percent it reached, never 100.
 */
export class PlainReporter implements Reporter {
  #count = 0;
  readonly #lastStep = new Map<number, number>();
  /** Last percent each task reported (undefined: unknown total). */
  readonly #percent = new Map<number, number | undefined>();
  /** When each task last printed a line without percent. */
  readonly #lastUnknown = new Map<number, number>();

  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly err: NodeJS.WritableStream,
    private readonly verbose: boolean,
    private readonly unknownEveryMs = UNKNOWN_TOTAL_LOG_INTERVAL_MS,
  ) {}

  #who(index: number, module: string): string {
    return `[${index + 1}/${this.#count} ${module}]`;
  }

  attach(engine: Engine): void {
    engine.on('job:start', (e) => {
      this.#count = e.modules.length;
      this.out.write(`job "${e.job.job_title}" started (${e.modules.length} task${e.modules.length === 1 ? '' : 's'}: ${e.modules.join(', ')})\n`);
    });
    engine.on('task:phase', (e) => {
      const who = this.#who(e.index, e.module);
      if (e.status === 'failed' && e.phase === 'run') {
        const percent = this.#percent.get(e.index);
        this.err.write(`${who} run ${failureWord(e.error)}${percent !== undefined ? ` at ${Math.floor(percent)}%` : ''}: ${e.error?.describe() ?? ''}\n`);
      } else if (e.status === 'failed') this.err.write(`${who} ${e.phase} failed: ${e.error?.describe() ?? ''}\n`);
      else if (e.phase === 'run' && e.status === 'start') this.out.write(`${who} running\n`);
      else if (e.phase === 'run' && e.status === 'end') this.out.write(`${who} done in ${formatDuration((e.durationMs ?? 0) / 1000)}\n`);
      else if (this.verbose) this.out.write(`${who} ${e.phase} ${e.status}\n`);
    });
    engine.on('progress', (p) => {
      this.#percent.set(p.index, p.percent);
      const details = progressDetails(p);
      if (p.percent === undefined) {
        const now = Date.now();
        if (now - (this.#lastUnknown.get(p.index) ?? -Infinity) < this.unknownEveryMs) return;
        this.#lastUnknown.set(p.index, now);
        this.out.write(`${this.#who(p.index, p.module)} ${details ? `${details} ` : ''}(total unknown)\n`);
        return;
      }
      const step = Math.floor(p.percent / 10);
      if ((this.#lastStep.get(p.index) ?? -1) >= step) return;
      this.#lastStep.set(p.index, step);
      this.out.write(`${this.#who(p.index, p.module)} ${Math.floor(p.percent)}%${details ? ` (${details})` : ''}\n`);
    });
    engine.on('log', (l) => {
      if (l.level === 'debug' && !this.verbose) return;
      const who = l.index !== undefined && l.module ? `${this.#who(l.index, l.module)} ` : '';
      (l.level === 'error' || l.level === 'warn' ? this.err : this.out).write(`${who}${l.level === 'info' ? '' : `${l.level}: `}${l.message}\n`);
    });
  }

  note(message: string): void {
    this.err.write(`${message}\n`);
  }

  finish(result: JobResult): void {
    if (result.completed) this.out.write(`job done in ${formatDuration(result.runtime)}\n`);
    else if (result.cancelled) this.err.write(`job cancelled after ${formatDuration(result.runtime)}\n`);
  }
}
