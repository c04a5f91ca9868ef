import type { ChildrenView, JobState } from './api/types.js';
import { stateLabel } from './format.js';

/** The order child states are told in. */
const ORDER: readonly JobState[] = ['completed', 'running', 'queued', 'waiting-children', 'failed', 'cancelled'];

/**
 * How a round's children stand, in words: `3/5 completed · 1 running · 1 queued`
 * (`total`: the round's children; states with no child left out).
 */
export function childStates(states: Partial<Record<JobState, number>>, total: number): string {
  const parts = [`${states.completed ?? 0}/${total} completed`];
  for (const state of ORDER) {
    const n = states[state];
    if (state !== 'completed' && n) parts.push(`${n} ${stateLabel(state)}`);
  }
  return parts.join(' · ');
}

/** Where a child job belongs in its parent's flow. */
export type ChildRole = 'round' | 'earlier' | 'finally';

/**
 * The role of each child in `answer.all` (every child ever, in the order
 * they were queued): the current round's; one queued before the round's
 * first (an earlier round); or one queued after the round's children (the
 * `finally` job: it is queued once the parent has ended, after every wait).
 */
export function childRoles(answer: ChildrenView): Map<string, ChildRole> {
  const round = new Set(answer.children.map((c) => c.job_id));
  const roles = new Map<string, ChildRole>();
  let seenRound = false;
  for (const child of answer.all) {
    if (round.has(child.job_id)) {
      seenRound = true;
      roles.set(child.job_id, 'round');
    } else {
      roles.set(child.job_id, seenRound ? 'finally' : 'earlier');
    }
  }
  return roles;
}

