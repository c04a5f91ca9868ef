import type { SchemaProblem } from '@sisyphus/core';

/** Most problems a 400 answer lists (a body with thousands of bad entries gets a short answer, not megabytes). */
export const MAX_PROBLEMS = 50;

/**
 * At most {@link MAX_PROBLEMS} of `problems`, and their one-line text
 * (`a[1].b must be an integer; c is required; ... and 120 more`).
 */
export function listProblems(problems: SchemaProblem[]): { problems: SchemaProblem[]; text: string } {
  const shown = problems.slice(0, MAX_PROBLEMS);
  const more = problems.length - shown.length;
  const text = shown.map((p) => (p.path ? `${p.path} ${p.message}` : p.message)).join('; ') + (more > 0 ? `; ... and ${more} more` : '');
  return { problems: shown, text };
}
