import { useState } from 'preact/hooks';
import { api, reportError } from '../api/api-client.js';
import type { FileDecision, ScanReport, WatchFileRecord, WatchRuleView, WatchScanStatus } from '../api/types.js';
import { Ellipsis } from '../components/ellipsis.js';
import { JobLink } from '../components/job-link.js';
import { Table, type Column } from '../components/table.js';
import { ago, ms, time } from '../format.js';
import { jobHref } from '../router.js';
import { serverNow } from '../state/server-clock.js';
import { can } from '../state/session.js';
import { usePolledApi } from '../state/use-polled-api.js';
import { useTick } from '../state/use-tick.js';

/** How often the rules and their last scans are read again while the page is visible (ms). */
const POLL_MS = 10_000;
/** Most files a dry run lists (its counts cover every file). */
const DRY_RUN_LIMIT = 500;

const iso = (epochMs: number | undefined) => (typeof epochMs === 'number' ? new Date(epochMs).toISOString() : undefined);

/** Counts by reason in words: `unchanged 10, unstable 1`. */
const byReason = (skipped: Record<string, number | undefined>) =>
  Object.entries(skipped)
    .filter(([, n]) => n)
    .map(([reason, n]) => `${reason} ${n}`)
    .join(', ');

/** A scan's figures in one line: `12 files matched: 1 submitted; skipped: unchanged 10, unstable 1`. */
function scanFigures(scan: Pick<WatchScanStatus, 'files' | 'submitted' | 'skipped'>, dry = false): string {
  const skipped = byReason(scan.skipped);
  return `${scan.files} file${scan.files === 1 ? '' : 's'} matched: ${scan.submitted} ${dry ? 'would be submitted' : 'submitted'}${skipped ? `; skipped: ${skipped}` : ''}`;
}

/** The rule's settings in words (defaults as the server fills them in). */
function settings(rule: WatchRuleView['rule']): string {
  return [
    `stable ${rule.stable_seconds ?? 10} s`,
    rule.min_age_seconds ? `min age ${rule.min_age_seconds} s` : '',
    `rescan every ${rule.scan_interval_seconds ?? 300} s`,
    rule.poll ? `polling every ${(rule.poll_interval_seconds as number | undefined) ?? 5} s` : 'change events',
    rule.recursive === false ? 'top folder only' : '',
    `attention after ${rule.max_failures ?? 3} failures`,
    rule.outputs_are_work ? 'outputs are work' : '',
  ]
    .filter(Boolean)
    .join(' · ');
}

/** The files of a rule that need attention (`GET /watch/rules/{name}/attention`), first 100. */
function Attention({ rule }: { rule: string }) {
  const { data, error } = usePolledApi<{ files: WatchFileRecord[]; next?: string }>(`/watch/rules/${encodeURIComponent(rule)}/attention?limit=100`, POLL_MS);
  const columns: Array<Column<WatchFileRecord>> = [
    { label: 'File', class: 'col-title', cell: (f) => <Ellipsis text={f.path} /> },
    { label: 'Failures', class: 'col-num', cell: (f) => f.failures },
    { label: 'Last job', class: 'col-task', cell: (f) => (f.job_id ? <JobLink id={f.job_id} title={f.job_id} /> : '—') },
    { label: 'Error', class: 'col-reason', cell: (f) => (f.error ? <Ellipsis text={f.error} /> : f.outcome) },
  ];
  if (error) return <p class="error-text">{error}</p>;
  if (!data) return <p class="muted">Loading…</p>;
  return (
    <div data-testid="watch-attention">
      <Table columns={columns} rows={data.files} rowKey={(f) => f.path} rowProps={() => ({ 'data-testid': 'attention-file' })} empty="No file needs attention" caption={`Files of ${rule} that need attention`} />
      {data.next ? <p class="muted small">More files need attention than listed here (sisyphus watch attention lists them all).</p> : null}
    </div>
  );
}

/** The answer of a dry run: its figures, then each file listed (to be submitted first). */
function DryRun({ report }: { report: ScanReport }) {
  const entries = [...report.entries].sort((a, b) => (a.action === b.action ? 0 : a.action === 'submit' ? -1 : 1));
  const columns: Array<Column<FileDecision>> = [
    { label: 'File', class: 'col-title', cell: (e) => <Ellipsis text={e.path} /> },
    {
      label: 'Decision',
      class: 'col-status',
      cell: (e) => <span class={`badge badge-${e.action === 'submit' ? 'queued' : 'skipped'}`}>{e.action === 'submit' ? 'submit' : e.skip ?? 'skip'}</span>,
    },
    {
      label: 'Why',
      class: 'col-reason',
      cell: (e) => (
        <>
          <Ellipsis text={e.reason} />
          {e.job_id ? (
            <a class="sub" href={jobHref(e.job_id)}>
              open the job
            </a>
          ) : null}
        </>
      ),
    },
  ];
  return (
    <div class="dry-run" data-testid="watch-dry-run-result">
      <h3>Dry run at {time(iso(report.finished_at))}</h3>
      <p data-testid="dry-run-figures">
        {scanFigures(report, true)}
        {report.truncated ? ` (the first ${report.entries.length} listed)` : ''}
      </p>
      {report.errors.length ? <p class="error-text">{report.errors.join('\n')}</p> : null}
      <Table columns={columns} rows={entries} rowKey={(e) => e.path} rowProps={(e) => ({ 'data-testid': 'dry-run-entry', 'data-action': e.action })} empty="No files in the folders" caption="Files of the dry run" />
    </div>
  );
}

/** One rule: where it looks and for what, who scans it, its last scan, files needing attention, and a dry run. */
function Rule({ view, now }: { view: WatchRuleView; now: number }) {
  const [report, setReport] = useState<ScanReport | undefined>();
  const [busy, setBusy] = useState(false);
  const [showAttention, setShowAttention] = useState(false);
  const { rule, last_scan: scan } = view;

  const dryRun = async () => {
    setBusy(true);
    try {
      setReport(await api<ScanReport>(`/watch/rules/${encodeURIComponent(view.name)}/scan?dry_run=true&limit=${DRY_RUN_LIMIT}`, { method: 'POST' }));
    } catch (error) {
      reportError(error);
    } finally {
      setBusy(false);
    }
  };

  return (
    <article class="panel watch-rule" data-testid="watch-rule" data-rule={view.name}>
      <div class="view-head">
        <h2>
          {view.name} <span class="badge">{view.source === 'config' ? 'server config' : 'API'}</span>
        </h2>
        <div class="actions">
          <button type="button" data-testid="watch-dry-run" disabled={busy} onClick={() => void dryRun()} title="List what a scan would submit now and why each other file is skipped; nothing is written or submitted">
            Dry run
          </button>
        </div>
      </div>
      <dl class="facts facts-wide">
        <dt>Folders</dt>
        <dd class="mono" data-testid="watch-folders">
          {rule.folders.join('\n')}
        </dd>
        <dt>Include</dt>
        <dd class="mono">{rule.include?.length ? rule.include.join('  ') : 'every file'}</dd>
        {rule.exclude?.length ? (
          <>
            <dt>Exclude</dt>
            <dd class="mono">{rule.exclude.join('  ')}</dd>
          </>
        ) : null}
        <dt>Template</dt>
        <dd class="mono">{rule.template}</dd>
        <dt>Settings</dt>
        <dd>{settings(rule)}</dd>
        <dt>Scanner</dt>
        <dd>{view.scanning_here ? 'this server' : view.scanner ? `server ${view.scanner}` : 'none right now (its lease is being taken)'}</dd>
        <dt>Last scan</dt>
        <dd data-testid="watch-last-scan">
          {scan ? (
            <>
              <span title={`${time(iso(scan.started_at))} to ${time(iso(scan.finished_at))}${scan.scanner ? ` by ${scan.scanner}` : ''}`}>
                {ago(now - scan.finished_at)} (took {ms(scan.finished_at - scan.started_at)})
              </span>
              : {scanFigures(scan)}
              {scan.errors?.length ? (
                <span class="error-text block" data-testid="watch-scan-errors">
                  {scan.errors.join('\n')}
                </span>
              ) : null}
            </>
          ) : (
            <span class="muted">not scanned yet</span>
          )}
        </dd>
        <dt>On this server</dt>
        <dd>
          {view.tracked.seen} file{view.tracked.seen === 1 ? '' : 's'} seen, {view.tracked.waiting} waiting to become stable
        </dd>
        <dt>Attention</dt>
        <dd data-testid="watch-attention-count">
          {view.attention ? (
            <>
              <span class="error-text">
                {view.attention} file{view.attention === 1 ? ' needs' : 's need'} attention
              </span>{' '}
              <button type="button" class="link-button" aria-expanded={showAttention} onClick={() => setShowAttention(!showAttention)}>
                {showAttention ? 'hide' : 'show'}
              </button>
            </>
          ) : (
            'none'
          )}
        </dd>
      </dl>
      {showAttention && view.attention ? <Attention rule={view.name} /> : null}
      {report ? <DryRun report={report} /> : null}
    </article>
  );
}

/**
 * The watch folder rules (`GET /watch/rules`, admin): each rule's folders,
 * patterns and settings, its scanner, its last scan and the files that need
 * attention, with a dry run (`POST /watch/rules/{name}/scan?dry_run=true`).
 * Scans tell no events: the view reads the rules again every 10 s while the
 * page is visible.
 */
export function WatchView() {
  const admin = can('fleet.read');
  const { data, error } = usePolledApi<{ rules: WatchRuleView[] }>(admin ? '/watch/rules' : null, POLL_MS);
  useTick();
  const now = serverNow();
  return (
    <section>
      <div class="view-head">
        <h1>Watch folders {data ? <span class="count">{data.rules.length}</span> : null}</h1>
      </div>
      {!admin ? (
        <p class="notice" data-testid="admin-only">
          Watch folders are shown to admin tokens only.
        </p>
      ) : (
        <>
          {error ? (
            <p class="error-text" data-testid="load-error">
              {error}
            </p>
          ) : null}
          {data ? (
            data.rules.length ? (
              data.rules.map((view) => <Rule key={view.name} view={view} now={now} />)
            ) : (
              <p class="empty">No watch rules: add them to the server config (server.watch) or through the API (PUT /watch/rules/NAME)</p>
            )
          ) : error ? null : (
            <p class="muted">Loading…</p>
          )}
        </>
      )}
    </section>
  );
}
