import { findExecutable } from '../process/find-executable.js';
import type { DetectContext } from './module-hooks.js';

/** Options of {@link detectBinaryVersion}. */
export interface BinaryVersionOptions {
  /** The program as the module's settings name it (a path, or a name on PATH); default `name` on PATH. */
  configured?: string;
  /** Arguments that make the program print its version. Default `['--version']`. */
  args?: readonly string[];
  /**
   * Reads the version from the output (stdout, then stderr, line by line):
   * the first capture group of the first line that matches. Default: the
   * first word that starts with digits and dots (`5.1.6-0+deb12u1`, `v74.0.0` -> `74.0.0`).
   */
  pattern?: RegExp;
  /** Exit codes that count as an answer. Default `[0]`. */
  okExitCodes?: readonly number[];
}

const DEFAULT_PATTERN = /(?:^|[\s(])v?(\d+(?:\.\d+)+[^\s,;()'"]*)/;
/** Output lines kept to look for the version in (a program printing a long help stays cheap). */
const MAX_LINES = 50;

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * For a module's `detect` hook: find the program `name` and ask it for its
 * version (an argv array, bounded by the context's `timeoutMs` and
 * `signal`). Resolves to the version, `unknown` when the program answered
 * without one, or `undefined` when it is missing, fails or does not answer
 * in time (said on the context's logger): a missing binary is absent from
 * the capabilities, never an error.
 *
 * @example
 * detect: async (ctx) => {
 *   const version = await detectBinaryVersion(ctx, 'mkvmerge', { configured: ctx.settings.mkvmerge });
 *   return version ? { binaries: { mkvmerge: version } } : {};
 * }
 */
export async function detectBinaryVersion(
  context: Pick<DetectContext<unknown>, 'runner' | 'signal' | 'timeoutMs' | 'logger'>,
  name: string,
  options: BinaryVersionOptions = {},
): Promise<string | undefined> {
  const found = await findExecutable(name, options.configured);
  if (!found.path) {
    context.logger?.debug(`${name} not found (searched ${found.searched.join(', ') || 'an empty PATH'})`);
    return undefined;
  }
  const stdout: string[] = [];
  const stderr: string[] = [];
  const keep = (lines: string[]) => (line: string) => {
    if (lines.length < MAX_LINES) lines.push(line);
  };
  try {
    await context.runner.run(found.path, options.args ?? ['--version'], {
      signal: context.signal,
      timeoutMs: context.timeoutMs,
      okExitCodes: options.okExitCodes ?? [0],
      onStdoutLine: keep(stdout),
      onStderrLine: keep(stderr),
    });
  } catch (error) {
    context.logger?.warn(`${name} (${found.path}) did not tell its version, so it is not advertised: ${message(error)}`);
    return undefined;
  }
  const pattern = options.pattern ?? DEFAULT_PATTERN;
  for (const line of [...stdout, ...stderr]) {
    const version = pattern.exec(line)?.[1];
    if (version) return version;
  }
  return 'unknown';
}
