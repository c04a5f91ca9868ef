import { stateLabel } from '../format.js';

/**
 * A job's or worker's state as a coloured label (coloured by `state`);
 * `label` replaces the text shown (by default the state in words:
 * `waiting-children` reads "waiting for children"), the raw state then
 * being the tooltip (`in_progress`).
 */
export function StateBadge({ state = 'unknown', label, testId }: { state?: string | undefined; label?: string; testId?: string }) {
  const shown = label ?? stateLabel(state);
  return (
    <span class={`badge badge-${state.replace(/[^a-z_-]/gi, '')}`} data-testid={testId} {...(label !== undefined || shown !== state ? { title: state } : {})}>
      {shown}
    </span>
  );
}
