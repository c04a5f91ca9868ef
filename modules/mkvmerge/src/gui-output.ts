/** What an MKVToolNix tool (mkvmerge, mkvextract) said in `--gui-mode`. */
export interface GuiLine {
  kind: 'progress' | 'warning' | 'error' | 'other';
  percent?: number;
  text: string;
}

/** Parse one line of `mkvmerge`/`mkvextract` `--gui-mode` output (`#GUI#progress 42%`, `#GUI#warning ...`, `#GUI#error ...`). */
export function parseGuiLine(line: string): GuiLine {
  const progress = /^#GUI#progress\s+(\d+(?:\.\d+)?)%/.exec(line);
  if (progress) return { kind: 'progress', percent: Math.min(100, Number(progress[1])), text: line };
  const message = /^#GUI#(warning|error)\s+(.*)$/.exec(line);
  if (message) return { kind: message[1] as 'warning' | 'error', text: message[2]!.trim() };
  const plain = /^(Warning|Error):\s+(.*)$/.exec(line);
  if (plain) return { kind: plain[1] === 'Warning' ? 'warning' : 'error', text: plain[2]!.trim() };
  return { kind: 'other', text: line };
}
