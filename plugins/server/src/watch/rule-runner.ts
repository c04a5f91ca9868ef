import { realpath, stat } from 'node:fs/promises';
import { basename, relative, sep } from 'node:path';
import { isInside } from '@sisyphus/core';
import { watch as watchFolders, type FSWatcher } from 'chokidar';
import { WATCH_BATCH, type WatchScanStatus, type WatchStore } from '../store/watch-store.js';
import type { FileDecision, SkipReason } from './file-decision.js';
import { FileFilter } from './file-filter.js';
import { walkFiles } from './file-walk.js';
import { isOpen } from './job-settlement.js';
import { RuleJudge, type Candidate, type RuleJudgeDeps } from './rule-judge.js';
import { StabilityTracker } from './stability-tracker.js';
import type { WatchRule } from './watch-rule.js';
import { WatchTemplate } from './watch-template.js';

/** What one scan of a rule found (`POST /watch/rules/{name}/scan`, the scan status). */
export interface ScanReport {
  rule: string;
  dry_run: boolean;
  /** Epoch ms. */
  started_at: number;
  finished_at: number;
  /** Files under the folders that the rule's patterns take. */
  files: number;
  /** Jobs submitted (dry run: that would be). */
  submitted: number;
  /** Files not submitted, by reason (patterns' leave-outs included). */
  skipped: Partial<Record<SkipReason, number>>;
  /** A decision per file, up to the scan's limit (every file the walk met, excluded ones too). */
  entries: FileDecision[];
  /** More files than `entries` holds. */
  truncated: boolean;
  errors: string[];
}

/** Settings of a {@link RuleRunner} besides its rule. */
export interface RuleRunnerDeps extends RuleJudgeDeps {
  watch: WatchStore;
  /** This server's id as a scanner (lease owner). */
  owner: string;
  /** The scanner lease, ms; renewed every third of it. */
  leaseMs: number;
  log(level: 'info' | 'warn' | 'error', message: string): void;
}

/** How often files waiting to become stable are looked at again (ms), from the rule's wait. */
const tickMs = (rule: WatchRule) => Math.min(2000, Math.max(200, Math.min(rule.stableMs || 1000, rule.minAgeMs || Infinity) / 4));

/** How many files are looked at again at once. */
const STAT_CONCURRENCY = 32;

/**
 * One watch rule at work on this server. It scans the rule only while it
 * holds the rule's scanner lease in the store (servers on one store take
 * turns; the lease is renewed every third of its length and a server that
 * stops renewing loses it to the next): then it watches the folders
 * (chokidar; polling with `poll`), walks them at once and every
 * `scan_interval_seconds`, and judges each file once its size and time
 * have stayed the same for `stable_seconds` (and it is `min_age_seconds`
 * old). A dry run walks and judges without writing or submitting anything,
 * leased or not.
 */
export class RuleRunner {
  readonly filter: FileFilter;
  readonly tracker: StabilityTracker;
  readonly #judge: RuleJudge;
  readonly template: WatchTemplate;
  #watcher: FSWatcher | undefined;
  #leaseTimer: NodeJS.Timeout | undefined;
  #tickTimer: NodeJS.Timeout | undefined;
  #scanTimer: NodeJS.Timeout | undefined;
  #active = false;
  #stopped = false;
  /** Judging is one batch at a time (a scan, the watcher's files and a manual scan never judge one file twice at once). */
  #lock: Promise<unknown> = Promise.resolve();
  #scanning: Promise<ScanReport> | undefined;
  #ticking = false;
  /** The lease renewal under way, if any. */
  #renewal: Promise<void> | undefined;
  /** The folders' real paths (symbolic links resolved), once known. */
  #folders: string[];

  constructor(
    readonly rule: WatchRule,
    private readonly deps: RuleRunnerDeps,
  ) {
    this.filter = new FileFilter(rule.include, rule.exclude);
    this.tracker = new StabilityTracker(rule.stableMs, rule.minAgeMs);
    this.template = new WatchTemplate(rule.template, rule.variables);
    this.#judge = new RuleJudge(rule, this.template, deps);
    this.#folders = [...rule.folders];
  }

  /** Does this server scan the rule now (it holds the lease)? */
  get active(): boolean {
    return this.#active;
  }

  /** The folders as watched: real paths. */
  get folders(): readonly string[] {
    return this.#folders;
  }

  /** Start taking part: try for the lease now and every third of its length. */
  start(): void {
    const renew = () => {
      if (this.#stopped || this.#renewal) return;
      this.#renewal = this.#renew().finally(() => (this.#renewal = undefined));
    };
    renew();
    this.#leaseTimer = setInterval(renew, Math.max(100, this.deps.leaseMs / 3));
    this.#leaseTimer.unref();
  }

  /** Stop: no more watching or scanning, the lease given up. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#leaseTimer);
    // (A renewal under way could take the lease again after it is given up.)
    await this.#renewal;
    await this.#deactivate();
    await this.#scanning?.catch(() => undefined);
    await this.#lock.catch(() => undefined);
    await this.deps.watch.releaseLease(this.rule.name, this.deps.owner).catch(() => undefined);
  }

  async #renew(): Promise<void> {
    let held: boolean;
    try {
      held = await this.deps.watch.lease(this.rule.name, this.deps.owner, this.deps.leaseMs, this.deps.now());
    } catch (error) {
      // The store is away: keep going while the lease may still be ours; the next renewal decides.
      this.deps.log('warn', `watch rule ${this.rule.name}: the scanner lease could not be renewed: ${(error as Error).message}`);
      return;
    }
    if (this.#stopped) return;
    if (held && !this.#active) await this.#activate();
    else if (!held && this.#active) {
      this.deps.log('info', `watch rule ${this.rule.name}: another server scans it now`);
      await this.#deactivate();
    }
  }

  async #activate(): Promise<void> {
    this.#active = true;
    this.#folders = await Promise.all(this.rule.folders.map((f) => realpath(f).catch(() => f)));
    if (this.#stopped || !this.#active) return;
    this.#watch();
    this.#tickTimer = setInterval(() => void this.#tick(), tickMs(this.rule));
    this.#tickTimer.unref();
    this.#scanTimer = setInterval(() => void this.scan({ dry: false }).catch(() => undefined), this.rule.scanIntervalMs);
    this.#scanTimer.unref();
    this.deps.log('info', `watch rule ${this.rule.name}: scanning ${this.#folders.join(', ')}`);
    void this.scan({ dry: false }).catch(() => undefined);
  }

  async #deactivate(): Promise<void> {
    this.#active = false;
    clearInterval(this.#tickTimer);
    clearInterval(this.#scanTimer);
    const watcher = this.#watcher;
    this.#watcher = undefined;
    await watcher?.close().catch(() => undefined);
  }

  /** Watch the folders for files that appear, change or go (events only feed the tracker; judging waits for stability). */
  #watch(): void {
    const watcher = watchFolders(this.#folders, {
      ignoreInitial: true,
      persistent: false,
      followSymlinks: false,
      usePolling: this.rule.poll,
      interval: this.rule.pollIntervalMs,
      binaryInterval: this.rule.pollIntervalMs,
      ...(this.rule.recursive ? {} : { depth: 0 }),
      // Sisyphus' own working folders and files: never looked into.
      ignored: (path: string) => this.filter.skipsFolder(basename(path)),
    });
    const seen = (path: string, stats?: { size: number; mtimeMs: number }) => void this.#seen(path, stats);
    watcher.on('add', seen).on('change', seen);
    watcher.on('unlink', (path: string) => this.tracker.forget(path));
    watcher.on('error', (error: unknown) => this.deps.log('warn', `watch rule ${this.rule.name}: watching: ${(error as Error).message}`));
    this.#watcher = watcher;
  }

  /** Where `path` is under the rule's folders; undefined when outside them. */
  #place(path: string): { folder: string; relative: string } | undefined {
    const folder = this.#folders.find((f) => path !== f && isInside(path, f));
    return folder === undefined ? undefined : { folder, relative: relative(folder, path).split(sep).join('/') };
  }

  /** A watcher event: record what the file looks like now. */
  async #seen(path: string, stats?: { size: number; mtimeMs: number }): Promise<void> {
    const place = this.#place(path);
    if (!place || !this.filter.test(place.relative).take) return;
    if (!stats) {
      try {
        stats = await stat(path);
      } catch {
        this.tracker.forget(path);
        return;
      }
    }
    this.tracker.observe(path, stats.size, stats.mtimeMs, this.deps.now());
  }

  /** Look again at the files whose wait is over; judge those still unchanged. */
  async #tick(): Promise<void> {
    if (this.#ticking || !this.#active) return;
    this.#ticking = true;
    try {
      const due = this.tracker.due(this.deps.now());
      for (let i = 0; i < due.length; i += WATCH_BATCH) {
        const ready = await this.#recheck(due.slice(i, i + WATCH_BATCH));
        if (!ready.length) continue;
        const { errors } = await this.#locked(() => this.#judgeAndSettle(ready, false));
        if (errors.length) this.deps.log('warn', `watch rule ${this.rule.name}: ${errors.slice(0, 3).join('; ')}${errors.length > 3 ? `; and ${errors.length - 3} more` : ''}`);
      }
    } catch (error) {
      this.deps.log('warn', `watch rule ${this.rule.name}: ${(error as Error).message}`);
    } finally {
      this.#ticking = false;
    }
  }

  /** `paths` as they are now: those unchanged since their observation (the others are observed anew). */
  async #recheck(paths: readonly string[]): Promise<Candidate[]> {
    const ready: Candidate[] = [];
    for (let i = 0; i < paths.length; i += STAT_CONCURRENCY) {
      await Promise.all(
        paths.slice(i, i + STAT_CONCURRENCY).map(async (path) => {
          const place = this.#place(path);
          const before = this.tracker.get(path);
          let now;
          try {
            now = await stat(path);
          } catch {
            this.tracker.forget(path);
            return;
          }
          if (!place || !before) return;
          const after = this.tracker.observe(path, now.size, now.mtimeMs, this.deps.now());
          if (after === before && !before.done) ready.push({ path, ...place, size: now.size, mtimeMs: now.mtimeMs });
        }),
      );
    }
    return ready;
  }

  /** Run `fn` after the judging before it. */
  #locked<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#lock.then(fn, fn);
    this.#lock = run.catch(() => undefined);
    return run;
  }

  /** The job of the file at `path` ended: its record takes the end (under the judging lock, read afresh, so that it is applied once). */
  settleEnded(path: string, jobId: string): Promise<void> {
    return this.#locked(async () => {
      const record = (await this.deps.watch.files(this.rule.name, [path])).get(path);
      if (record && record.job_id === jobId && isOpen(record)) await this.deps.settlement.settleFile(record);
    });
  }

  /** Judge `candidates`; unless `dry`, their current versions then wait for nothing more. */
  async #judgeAndSettle(candidates: readonly Candidate[], dry: boolean) {
    const judgement = await this.#judge.judge(candidates, dry);
    // (A file skipped for its template or a read error is judged again at the next scan or change.)
    if (!dry) for (const decision of judgement.decisions) this.tracker.settle(decision.path);
    return judgement;
  }

  /**
   * Walk the folders and judge every file the patterns take: stable ones
   * now, the others when they become stable (unless `dry`). A file whose
   * record has its current size and time is judged at once (it is known).
   * `limit`: decisions kept in the report (default 1000).
   */
  scan(options: { dry: boolean; limit?: number }): Promise<ScanReport> {
    if (!options.dry && this.#scanning) return this.#scanning;
    const run = this.#scan(options.dry, options.limit ?? 1000);
    if (!options.dry) {
      this.#scanning = run;
      void run.finally(() => {
        if (this.#scanning === run) this.#scanning = undefined;
      }).catch(() => undefined);
    }
    return run;
  }

  async #scan(dry: boolean, limit: number): Promise<ScanReport> {
    const report: ScanReport = { rule: this.rule.name, dry_run: dry, started_at: this.deps.now(), finished_at: 0, files: 0, submitted: 0, skipped: {}, entries: [], truncated: false, errors: [] };
    const note = (decision: FileDecision) => {
      if (decision.action === 'submit') report.submitted += 1;
      else report.skipped[decision.skip!] = (report.skipped[decision.skip!] ?? 0) + 1;
      if (report.entries.length < limit) report.entries.push(decision);
      else report.truncated = true;
    };
    const folders = dry ? await Promise.all(this.rule.folders.map((f) => realpath(f).catch(() => f))) : this.#folders;
    let batch: Candidate[] = [];
    const flush = async () => {
      const files = batch;
      batch = [];
      if (!files.length) return;
      const now = this.deps.now();
      // Known versions are judged now whatever their stability; the others once stable.
      const records = await this.deps.watch.files(this.rule.name, files.map((f) => f.path));
      const judge: Candidate[] = [];
      for (const file of files) {
        const observation = this.tracker.observe(file.path, file.size, file.mtimeMs, now);
        const record = records.get(file.path);
        const known = record !== undefined && record.size === file.size && record.mtime_ms === file.mtimeMs;
        const stability = this.tracker.stability(observation, now);
        if (known || stability.stable) judge.push(file);
        else note({ path: file.path, action: 'skip', skip: stability.skip, reason: stability.reason });
      }
      if (judge.length) {
        const judgement = await this.#locked(() => this.#judgeAndSettle(judge, dry));
        judgement.decisions.forEach(note);
        report.errors.push(...judgement.errors.filter((e) => !report.errors.includes(e)));
      }
    };
    for (const folder of folders) {
      try {
        for await (const file of walkFiles(folder, {
          recursive: this.rule.recursive,
          skipFolder: (name) => this.filter.skipsFolder(name),
          onError: (path, error) => report.errors.push(`${path}: ${error.code ?? error.message}`),
        })) {
          // Stopped, or the lease lost: a real scan ends here (the next scanner walks again).
          if (!dry && (this.#stopped || !this.#active)) break;
          const verdict = this.filter.test(file.relative);
          if (!verdict.take) {
            if (dry) note({ path: file.path, action: 'skip', skip: verdict.skip, reason: verdict.reason });
            continue;
          }
          report.files += 1;
          batch.push({ ...file, folder });
          if (batch.length >= WATCH_BATCH) await flush();
        }
        await flush();
      } catch (error) {
        report.errors.push(`folder ${folder} cannot be scanned: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
      }
    }
    report.finished_at = this.deps.now();
    if (!dry) {
      // Counted without the patterns' leave-outs (a real scan does not list them).
      const status: WatchScanStatus = {
        started_at: report.started_at,
        finished_at: report.finished_at,
        files: report.files,
        submitted: report.submitted,
        skipped: report.skipped as Record<string, number>,
        ...(report.errors.length ? { errors: report.errors.slice(0, 20) } : {}),
        scanner: this.deps.owner,
      };
      await this.deps.watch.putScanStatus(this.rule.name, status).catch((error: unknown) => this.deps.log('warn', `watch rule ${this.rule.name}: the scan status could not be kept: ${(error as Error).message}`));
      if (report.errors.length) this.deps.log('warn', `watch rule ${this.rule.name}: ${report.errors.slice(0, 3).join('; ')}${report.errors.length > 3 ? `; and ${report.errors.length - 3} more` : ''}`);
    }
    return report;
  }
}
