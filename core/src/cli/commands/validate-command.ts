import type { Engine } from '../../engine/engine.js';
import type { JobInput } from '../../job/job-schema.js';
import { ExitCodes } from '../exit-codes.js';
import { loadJobInput, type JobInputOptions } from '../load-job-input.js';
import { engineFromOptions, type GlobalOptions } from './shared.js';

/** Options of `sisyphus validate`. */
export interface ValidateCommandOptions extends GlobalOptions, JobInputOptions {
  json?: boolean;
}

/** `sisyphus validate JOB`: resolve, render, init and validate every task; print the plan. Runs nothing. */
export async function validateCommand(file: string, options: ValidateCommandOptions, makeEngine: (o: GlobalOptions) => Promise<Engine> = engineFromOptions): Promise<number> {
  const engine = await makeEngine(options);
  const { doc, variables } = await loadJobInput(file, options);
  // A document read from a file: the engine checks it (and renders its placeholders).
  const plan = await engine.validate(doc as JobInput, { variables });
  if (options.json) {
    process.stdout.write(`${JSON.stringify(plan, null, 2)}\n`);
    return ExitCodes.OK;
  }
  const lines = [`job "${plan.job.job_title}" is valid: ${plan.tasks.length} task${plan.tasks.length === 1 ? '' : 's'}`];
  for (const task of plan.tasks) {
    lines.push(`  ${task.index + 1}. ${task.module} (${task.plugin.name} ${task.plugin.version})`);
    for (const line of task.plan) lines.push(`       ${line}`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  return ExitCodes.OK;
}
