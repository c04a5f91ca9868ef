import { useEffect } from 'preact/hooks';
import { useObservable } from '../state/observable.js';
import { dismissToast, toasts } from '../state/toast.js';

/**
 * The message of {@link toast}, announced to screen readers: at the top,
 * centred under the header, beside the view's heading (the views keep their
 * actions at the right of it, paging at the bottom right), at the bottom on
 * a phone. It has a close button; Escape closes it too.
 */
export function ToastHost() {
  const messages = useObservable(toasts);
  const shown = messages.length > 0;
  useEffect(() => {
    if (!shown) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape' && !e.defaultPrevented) for (const m of toasts.value) dismissToast(m.id);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [shown]);
  return (
    <div class="toasts" aria-live="polite">
      {shown ? (
        <div data-testid="toast">
          {messages.map((m) => (
            <div key={m.id} class={`toast toast-${m.kind}`} role={m.kind === 'error' ? 'alert' : 'status'}>
              <span>{m.text}</span>
              <button type="button" class="toast-close" aria-label="Dismiss" title="Dismiss (Esc)" onClick={() => dismissToast(m.id)}>
                ×
              </button>
            </div>
          ))}
        </div>
      ) : null}
    </div>
  );
}
