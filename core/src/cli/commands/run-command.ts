import type { Engine } from '../../engine/engine.js';
import type { JobInput } from '../../job/job-schema.js';
import { killAllGroups } from '../../process/process-groups.js';
import { exitCodeFor, ExitCodes } from '../exit-codes.js';
import { loadJobInput, type JobInputOptions } from '../load-job-input.js';
import { JsonReporter } from '../reporters/json-reporter.js';
import { PlainReporter } from '../reporters/plain-reporter.js';
import type { Reporter } from '../reporters/reporter.js';
import { engineFromOptions, type GlobalOptions } from './shared.js';

/** Options of `sisyphus run`. */
export interface RunCommandOptions extends GlobalOptions, JobInputOptions {
  json?: boolean;
}

async function pickReporter(options: RunCommandOptions): Promise<Reporter> {
  if (options.json) return new JsonReporter(process.stdout);
  if (process.stderr.isTTY && process.stdout.isTTY) {
    const { TtyReporter } = await import('../reporters/tty-reporter.js');
    return new TtyReporter(process.stderr, !!options.verbose);
  }
  return new PlainReporter(process.stdout, process.stderr, !!options.verbose);
}

/**
 * `sisyphus run JOB`: run a job locally. Ctrl-C (or SIGTERM) cancels: children
 * are killed, cleanup runs, exit 130. A second Ctrl-C kills at once.
 */
export async function runCommand(file: string, options: RunCommandOptions, makeEngine: (o: GlobalOptions) => Promise<Engine> = engineFromOptions): Promise<number> {
  const engine = await makeEngine(options);
  const { doc, variables } = await loadJobInput(file, options);
  const reporter = await pickReporter(options);
  reporter.attach(engine);

  const controller = new AbortController();
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals += 1;
    if (signals === 1) {
      reporter.note(`${signal}: cancelling the job (again to kill at once)...`);
      controller.abort(new Error(signal));
    } else {
      killAllGroups('SIGKILL');
      process.exit(ExitCodes.CANCELLED);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    // A document read from a file: the engine checks it (and renders its placeholders) before anything runs.
    const result = await engine.run(doc as JobInput, { signal: controller.signal, variables });
    reporter.finish(result);
    if (!result.completed && !result.cancelled && !options.json) {
      process.stderr.write(`sisyphus: job failed: ${result.code} ${result.module ? `${result.module} (task ${(result.task_index ?? 0) + 1}, ${result.phase}): ` : ''}${result.message}\n`);
    }
    return exitCodeFor(result);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
