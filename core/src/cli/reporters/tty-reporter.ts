import cliProgress from 'cli-progress';
import type { Engine } from '../../engine/engine.js';
import type { JobResult } from '../../engine/job-result.js';
import { formatDuration, progressDetails, type Reporter } from './reporter.js';

type Bar = ReturnType<cliProgress.MultiBar['create']>;

/** Live progress bars, one per task, with module log lines above them (a terminal). */
export class TtyReporter implements Reporter {
  readonly #multi: cliProgress.MultiBar;
  readonly #bars = new Map<number, Bar>();
  #count = 0;

  readonly #stream: NodeJS.WriteStream;

  constructor(stream: NodeJS.WriteStream, private readonly verbose: boolean) {
    this.#stream = stream;
    this.#multi = new cliProgress.MultiBar(
      {
        stream,
        format: ' {task} |{bar}| {percentage}% {details}',
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
        this.#bars.set(e.index, this.#multi.create(100, 0, { task: this.#label(e.index, e.module), details: '' }));
      } else if (e.phase === 'run' && e.status === 'end') {
        this.#bars.get(e.index)?.update(100, { details: `done in ${formatDuration((e.durationMs ?? 0) / 1000)}` });
      } else if (e.status === 'failed') {
        this.#bars.get(e.index)?.update({ details: 'failed' });
        this.#print(`${e.module} (task ${e.index + 1}) ${e.phase} failed: ${e.error?.describe() ?? ''}`);
      }
    });
    engine.on('progress', (p) => {
      this.#bars.get(p.index)?.update(Math.floor(p.percent), { details: progressDetails(p) });
    });
    engine.on('log', (l) => {
      if (l.level === 'debug' && !this.verbose) return;
      this.#print(`${l.module ? `${l.module}: ` : ''}${l.level === 'info' ? '' : `${l.level}: `}${l.message}`);
    });
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
