import type { TestTaskRun } from './run-task.js';

/**
 * The task's phase events as `phase:status` strings, in order, e.g.
 * `['init:start', 'init:end', 'validate:start', 'validate:end', 'run:start',
 * 'run:end', 'cleanup:start', 'cleanup:end']`. Compare with `toEqual` to
 * check which hooks ran and where a failure happened.
 */
export function phaseTrail(run: TestTaskRun): string[] {
  return run.phases.map((e) => `${e.phase}:${e.status}`);
}

/**
 * Throw unless the task completed. The error says why it did not (code,
 * phase and the one-line reason), which reads better in a test report than
 * `expected false to be true`. Needs no test framework.
 */
export function assertCompleted(run: TestTaskRun): void {
  const { result } = run;
  if (result.completed) return;
  const how = result.cancelled ? 'was cancelled' : `failed in ${result.phase ?? 'an unknown phase'} with ${result.code ?? 'no code'}`;
  throw new Error(`expected the task to complete, but it ${how}: ${result.message ?? '(no message)'}`);
}
