/**
 * Quote an argv for display (logs, `sisyphus validate`), the way a POSIX
 * shell would need it. Display only: nothing is ever run through a shell.
 */
export function formatCommand(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}
