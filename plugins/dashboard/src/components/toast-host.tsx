import { useObservable } from '../state/observable.js';
import { dismissToast, toasts } from '../state/toast.js';

/** The messages of {@link toast}, bottom right, announced to screen readers. */
export function ToastHost() {
  const messages = useObservable(toasts);
  return (
    <div class="toasts" aria-live="polite">
      {messages.length ? (
        <div data-testid="toast">
          {messages.map((m) => (
            <div key={m.id} class={`toast toast-${m.kind}`} role={m.kind === 'error' ? 'alert' : 'status'}>
              <span>{m.text}</span>
              <button type="button" class="toast-close" aria-label="Dismiss" onClick={() => dismissToast(m.id)}>
                ×
              </button>
            </div>
          ))}
        </div>
      ) : null}
    </div>
  );
}
