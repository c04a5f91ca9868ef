import type { JSX } from 'preact';

// Tokens of pretty-printed JSON: a string (a key when a colon follows), a number, a literal.
const TOKEN = /("(?:[^"\\]|\\.)*")(\s*:)?|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|\b(true|false|null)\b/g;

/**
 * A JSON value, pretty-printed with its keys, strings and numbers coloured.
 * Text only (Preact escapes it): a value holding markup shows it as text.
 */
export function JsonView({ value, testId }: { value: unknown; testId?: string }) {
  const text = JSON.stringify(value, null, 2) ?? 'undefined';
  const parts: Array<string | JSX.Element> = [];
  let last = 0;
  for (const m of text.matchAll(TOKEN)) {
    const at = m.index ?? 0;
    if (at > last) parts.push(text.slice(last, at));
    const cls = m[1] !== undefined ? (m[2] !== undefined ? 'json-key' : 'json-string') : m[3] !== undefined ? 'json-number' : 'json-literal';
    parts.push(
      <span key={at} class={cls}>
        {m[1] ?? m[3] ?? m[4]}
      </span>,
    );
    if (m[2] !== undefined) parts.push(m[2]);
    last = at + m[0].length;
  }
  if (last < text.length) parts.push(text.slice(last));
  return (
    <pre class="json" data-testid={testId}>
      {parts}
    </pre>
  );
}
