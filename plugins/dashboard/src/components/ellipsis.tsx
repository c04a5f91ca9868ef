import type { ComponentChildren } from 'preact';

/** Text cut to one line with an ellipsis; the whole text in the tooltip. */
export function Ellipsis({ text, children, testId }: { text: string; children?: ComponentChildren; testId?: string }) {
  return (
    <span class="ellipsis" title={text} data-testid={testId}>
      {children ?? text}
    </span>
  );
}
