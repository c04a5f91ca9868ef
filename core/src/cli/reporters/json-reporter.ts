import type { Engine } from '../../engine/engine.js';
import type { JobResult } from '../../engine/job-result.js';
import type { Reporter } from './reporter.js';

/** Every event as one JSON line on stdout (`--json`), then `{"event":"result",...}`. */
export class JsonReporter implements Reporter {
  constructor(private readonly out: NodeJS.WritableStream) {}

  #line(event: string, body: object): void {
    this.out.write(`${JSON.stringify({ event, ...body })}\n`);
  }

  attach(engine: Engine): void {
    engine.on('job:start', (e) => this.#line('job:start', { jobId: e.jobId, job_title: e.job.job_title, modules: e.modules }));
    engine.on('task:phase', (e) => {
      const { error, ...rest } = e;
      this.#line('task:phase', error ? { ...rest, error: { code: error.code, message: error.message } } : rest);
    });
    engine.on('progress', (e) => this.#line('progress', e));
    engine.on('log', (e) => this.#line('log', e));
  }

  note(message: string): void {
    this.#line('note', { message });
  }

  finish(result: JobResult): void {
    this.#line('result', { result });
  }
}
