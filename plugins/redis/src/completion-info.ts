import type { JobResult } from '@sisyphus/core';

/**
 * The completion `info` stored for a finished job, in the original worker's
 * shape (the same as `completionBody` of `@sisyphus/transport-http`, copied
 * to keep this package free of the HTTP transport): a job that failed before
 * running (schema, init or validation failure, or cancelled before its
 * start) is stored without `completed` and `module`.
 */
export function completionInfo(result: JobResult): { failed: boolean; info: Record<string, unknown> } {
  const beforeRun = !result.completed && (result.phase === undefined || result.phase === 'init' || result.phase === 'validate');
  if (!beforeRun) return { failed: !result.completed, info: { ...result } };
  const { completed: _completed, module: _module, ...info } = result;
  return { failed: true, info };
}
