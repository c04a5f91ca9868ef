/** Previous / next page buttons (`prev-page`, `next-page`), with what the page shows. */
export function Pager({
  hasPrev,
  hasNext,
  onPrev,
  onNext,
  label,
}: {
  hasPrev: boolean;
  hasNext: boolean;
  onPrev: () => void;
  onNext: () => void;
  label?: string;
}) {
  return (
    <div class="pager">
      <button type="button" data-testid="prev-page" disabled={!hasPrev} onClick={onPrev}>
        ← Previous
      </button>
      {label ? <span class="pager-label">{label}</span> : null}
      <button type="button" data-testid="next-page" disabled={!hasNext} onClick={onNext}>
        Next →
      </button>
    </div>
  );
}
