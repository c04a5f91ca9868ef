/** A job's or worker's state as a coloured label. */
export function StateBadge({ state = 'unknown', testId }: { state?: string | undefined; testId?: string }) {
  return (
    <span class={`badge badge-${state.replace(/[^a-z_]/gi, '')}`} data-testid={testId}>
      {state}
    </span>
  );
}
