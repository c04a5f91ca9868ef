import type { Command } from 'commander';
import { apiRequest, type ApiOptions } from '../api-client.js';
import { ExitCodes } from '../exit-codes.js';
import { printable, printableJson } from '../printable.js';
import { usage } from '../usage-error.js';
import type { GlobalOptions } from './shared.js';

/** Options of `sisyphus watch`. */
export interface WatchCommandOptions extends ApiOptions, GlobalOptions {
  json?: boolean;
  /** List what a scan would submit and why each other file would not be, without submitting. */
  dryRun?: boolean;
  /** Only this rule (default: every rule). */
  rule?: string;
  /** Most files listed per rule (default 1000). */
  limit?: string;
}

/** What the server answers for a rule (`GET /watch/rules`), as far as the command shows it. */
interface RuleView {
  name: string;
  source: string;
  rule: { folders: string[]; template: string };
  scanning_here: boolean;
  scanner?: string;
  last_scan?: { started_at: number; finished_at: number; files: number; submitted: number; skipped: Record<string, number>; errors?: string[] };
  attention: number;
}

/** A dry run's answer (`POST /watch/rules/{name}/scan?dry_run=true`). */
interface ScanReport {
  rule: string;
  files: number;
  submitted: number;
  skipped: Record<string, number>;
  entries: Array<{ path: string; action: 'submit' | 'skip'; skip?: string; reason: string; job_id?: string }>;
  truncated: boolean;
  errors: string[];
}

const print = (text: string) => process.stdout.write(`${text}\n`);
const printJson = (value: unknown) => print(printableJson(JSON.stringify(value, null, 2)));

/** `3 unchanged, 2 not-included`: counts by reason, largest first. */
function counts(skipped: Record<string, number>): string {
  return Object.entries(skipped)
    .sort((a, b) => b[1] - a[1])
    .map(([reason, n]) => `${n} ${printable(reason)}`)
    .join(', ');
}

/** One rule of `sisyphus watch ls`. */
function ruleLine(view: RuleView): string {
  const scan = view.last_scan;
  const last = scan
    ? `last scan ${new Date(scan.finished_at).toISOString()}: ${scan.files} files, ${scan.submitted} submitted${Object.keys(scan.skipped).length ? ` (${counts(scan.skipped)} skipped)` : ''}${scan.errors?.length ? `; ${scan.errors.length} error(s): ${printable(scan.errors[0]!)}` : ''}`
    : 'not scanned yet';
  const scanner = view.scanner ? `scanned by ${printable(view.scanner)}` : 'no scanner';
  const attention = view.attention ? `; ${view.attention} file(s) need attention` : '';
  return `${printable(view.name)} (${view.source})  ${view.rule.folders.map((f) => printable(f)).join(', ')} -> ${printable(view.rule.template)}\n  ${scanner}; ${last}${attention}`;
}

/** The lines of one rule's dry run. */
function dryRunLines(report: ScanReport): string {
  const lines = [
    `rule ${printable(report.rule)}: ${report.submitted} file(s) would be submitted${Object.keys(report.skipped).length ? `; skipped: ${counts(report.skipped)}` : ''}`,
    ...report.entries.map((e) => (e.action === 'submit' ? `  submit  ${printable(e.path)}  (${printable(e.reason)})` : `  skip    ${printable(e.path)}  ${printable(e.skip ?? '')}: ${printable(e.reason)}`)),
  ];
  if (report.truncated) lines.push(`  ... more files than listed (--limit)`);
  for (const error of report.errors) lines.push(`  error: ${printable(error)}`);
  return lines.join('\n');
}

/**
 * `sisyphus watch [ls]`: the server's watch rules with their last scan;
 * `sisyphus watch --dry-run [--rule NAME]`: what a scan would submit now and
 * why each other file would not be (nothing is submitted or written);
 * `sisyphus watch attention --rule NAME`: files whose jobs failed too often;
 * `sisyphus watch forget --rule NAME PATH`: judge a file as new again.
 */
export async function watchCommand(action: string, path: string | undefined, options: WatchCommandOptions): Promise<number> {
  const rulePath = (name: string) => `/watch/rules/${encodeURIComponent(name)}`;
  if (options.dryRun) {
    if (action !== 'ls') throw usage('watch --dry-run takes no action (use --rule NAME for one rule)');
    const limit = options.limit !== undefined ? Number(options.limit) : undefined;
    if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1)) throw usage(`--limit must be a whole number from 1 (got ${options.limit})`);
    const names = options.rule ? [options.rule] : (await apiRequest<{ rules: RuleView[] }>(options, 'GET', '/watch/rules')).rules.map((r) => r.name);
    const reports: ScanReport[] = [];
    for (const name of names) {
      reports.push(await apiRequest<ScanReport>(options, 'POST', `${rulePath(name)}/scan?dry_run=true${limit !== undefined ? `&limit=${limit}` : ''}`));
    }
    if (options.json) printJson(options.rule ? reports[0] : { rules: reports });
    else print(reports.length ? reports.map(dryRunLines).join('\n') : '(no watch rules)');
    return ExitCodes.OK;
  }
  switch (action) {
    case 'ls': {
      const { rules } = await apiRequest<{ rules: RuleView[] }>(options, 'GET', '/watch/rules');
      const shown = options.rule ? rules.filter((r) => r.name === options.rule) : rules;
      if (options.rule && !shown.length) throw usage(`no watch rule ${JSON.stringify(options.rule)} on the server`);
      if (options.json) printJson({ rules: shown });
      else print(shown.length ? shown.map(ruleLine).join('\n') : '(no watch rules)');
      return ExitCodes.OK;
    }
    case 'attention': {
      if (!options.rule) throw usage('watch attention needs --rule NAME');
      const page = await apiRequest<{ files: Array<{ path: string; failures: number; job_id?: string; error?: string }>; next?: string }>(options, 'GET', `${rulePath(options.rule)}/attention?limit=1000`);
      if (options.json) printJson(page);
      else if (!page.files.length) print('(no file needs attention)');
      else print(page.files.map((f) => `${printable(f.path)}  ${f.failures} failed job(s)${f.job_id ? `, last ${printable(f.job_id)}` : ''}${f.error ? `: ${printable(f.error)}` : ''}`).join('\n') + (page.next ? '\n... more' : ''));
      return ExitCodes.OK;
    }
    case 'forget': {
      if (!options.rule || !path) throw usage('watch forget needs --rule NAME and the PATH of the file');
      await apiRequest(options, 'DELETE', `${rulePath(options.rule)}/files?path=${encodeURIComponent(path)}`);
      print(`forgotten: ${printable(path)} is judged as a new file at the next look`);
      return ExitCodes.OK;
    }
    default:
      throw usage(`unknown watch action "${action}" (ls, attention, forget; or --dry-run)`);
  }
}

/** Add `watch` to the `sisyphus` program; `setCode` receives the exit code. */
export function addWatchCommand(program: Command, setCode: (code: number) => void): void {
  program
    .command('watch')
    .argument('[action]', 'ls | attention | forget', 'ls')
    .argument('[path]', 'forget: the file')
    .description("the server's watch folder rules: list them, dry-run a scan, files that need attention")
    .option('--dry-run', 'list what a scan would submit now and why each other file would not be; submits nothing')
    .option('--rule <name>', 'only this rule')
    .option('--limit <n>', 'dry run: most files listed per rule (default 1000)')
    .option('--api <url>', 'server URL (default: config api.url, $SISYPHUS_API, $API_URL, http://localhost:5000)')
    .option('--token <token>', 'bearer token (default: config api.token, $SISYPHUS_TOKEN); the watch routes need an admin token')
    .option('--json', 'print JSON')
    .action(async (action: string, path: string | undefined, opts: WatchCommandOptions, cmd: Command) => {
      const { apiOptionsFrom } = await import('./api-options.js');
      setCode(await watchCommand(action, path, await apiOptionsFrom({ ...cmd.optsWithGlobals(), ...opts })));
    });
}
