import { Observable } from './observable.js';

/** A message shown at the bottom of the page for a few seconds. */
export interface ToastMessage {
  id: number;
  text: string;
  kind: 'info' | 'error';
}

/** The messages on screen, oldest first. */
export const toasts = new Observable<ToastMessage[]>([]);

let nextId = 1;
const SHOW_MS = { info: 4000, error: 8000 };

/** Show `text` for a few seconds. */
export function toast(text: string, kind: 'info' | 'error' = 'info'): void {
  const message: ToastMessage = { id: nextId++, text, kind };
  toasts.set([...toasts.value.slice(-4), message]);
  setTimeout(() => dismissToast(message.id), SHOW_MS[kind]);
}

/** Remove a message now. */
export function dismissToast(id: number): void {
  toasts.set(toasts.value.filter((m) => m.id !== id));
}
