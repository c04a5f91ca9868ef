/**
 * JSON with `&`, `<` and `>` written as `\u0026`, `\u003c`, `\u003e`. Still the
 * same JSON, but the original Sisyphus worker HTML-unescapes the whole body
 * before parsing it, which would turn "Tom &amp; Jerry" into "Tom & Jerry"
 * and worse; escaped this way nothing is changed by that step.
 */
export function safeJson(value: unknown): string {
  return JSON.stringify(value).replace(/[&<>]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`);
}
