/**
 * The Cancel button of a job's row (`cancel`, styled `danger`): while
 * `busy` (its request under way, or the cancel already requested) it is
 * disabled and reads "Cancelling…".
 */
export function CancelButton({ busy, onCancel }: { busy: boolean; onCancel: () => void }) {
  return (
    <button type="button" class="danger" data-testid="cancel" disabled={busy} onClick={onCancel}>
      {busy ? 'Cancelling…' : 'Cancel'}
    </button>
  );
}
