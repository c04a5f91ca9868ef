import { Observable } from './observable.js';

/** A message shown at the top of the page for a few seconds (see ToastHost). */
export interface ToastMessage {
  id: number;
  text: string;
  kind: 'info' | 'error';
}

/** The message on screen (none or one). */
export const toasts = new Observable<ToastMessage[]>([]);

let nextId = 1;
const SHOW_MS = { info: 4000, error: 8000 };

/**
 * Show `text` for a few seconds (errors longer), in place of the message on
 * screen: one message at a time, so that it stays in the strip under the
 * header where it covers no control (a stack would grow over the view).
 */
export function toast(text: string, kind: 'info' | 'error' = 'info'): void {
  const message: ToastMessage = { id: nextId++, text, kind };
  toasts.set([message]);
  setTimeout(() => dismissToast(message.id), SHOW_MS[kind]);
}

/** Remove a message now. */
export function dismissToast(id: number): void {
  toasts.set(toasts.value.filter((m) => m.id !== id));
}
