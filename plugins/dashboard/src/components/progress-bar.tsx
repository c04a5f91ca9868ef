import { percent } from '../format.js';

/** A progress bar (role=progressbar) for 0-100; without a percent it is indeterminate (no aria-valuenow). */
export function ProgressBar({ value, label }: { value: number | undefined; label?: string }) {
  const known = typeof value === 'number' && Number.isFinite(value);
  const clamped = known ? Math.min(100, Math.max(0, value)) : undefined;
  return (
    <div class="progress-cell">
      <div
        class={known ? 'progress' : 'progress indeterminate'}
        data-testid="progress"
        role="progressbar"
        aria-label={label ?? 'Progress'}
        aria-valuemin={0}
        aria-valuemax={100}
        {...(clamped !== undefined ? { 'aria-valuenow': Math.round(clamped * 10) / 10 } : {})}
      >
        <div class="progress-fill" style={clamped !== undefined ? { width: `${clamped}%` } : undefined} />
      </div>
      <span class="progress-percent" data-testid="progress-percent">
        {clamped !== undefined ? percent(clamped) : '—'}
      </span>
    </div>
  );
}
