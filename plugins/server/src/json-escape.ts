/**
 * JSON text with `&`, `<` and `>` written as `\u0026`, `\u003c`, `\u003e`.
 * Still the same JSON (they can only occur inside strings), but the
 * original Sisyphus worker HTML-unescapes the whole body before parsing
 * it, which would turn "Tom &amp; Jerry" into "Tom & Jerry" and worse;
 * escaped this way nothing is changed by that step.
 */
export function escapeJsonText(json: string): string {
  return json.replace(/[&<>]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`);
}

/** `value` as JSON, escaped as {@link escapeJsonText} says: every reply of the server. */
export function safeJson(value: unknown): string {
  return escapeJsonText(JSON.stringify(value));
}
