import { randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { ConfigError, type SchemaProblem } from '@sisyphus/core';
import type { WatchRuleConfig } from '@sisyphus/core/config';
import type { ServerContext } from '../server-context.js';
import type { QueueEvent } from '../store/queue-store.js';
import type { WatchFilePage, WatchFileRecord, WatchScanStatus, WatchStore } from '../store/watch-store.js';
import { JobSettlement } from './job-settlement.js';
import { pathsNamedBy } from './job-paths.js';
import { RuleRunner, type ScanReport } from './rule-runner.js';
import { WATCH_DEFAULTS, resolveWatchRule, watchRuleProblems, type WatchRule } from './watch-rule.js';
import { WatchTemplate } from './watch-template.js';

/** A rule as `GET /watch/rules` shows it. */
export interface WatchRuleView {
  name: string;
  /** Where the rule comes from: the server config (read-only through the API) or the API (kept in the store). */
  source: 'config' | 'api';
  rule: WatchRuleConfig;
  /** This server scans the rule now (holds its scanner lease). */
  scanning_here: boolean;
  /** The server that holds the rule's scanner lease, if any. */
  scanner?: string;
  last_scan?: WatchScanStatus;
  /** Files that need attention (see `GET /watch/rules/{name}/attention`). */
  attention: number;
  /** On this server: files seen, and files waiting to become stable. */
  tracked: { seen: number; waiting: number };
}

/** A refusal of the watch API: an HTTP status and a message (with the problems of a bad rule). */
export class WatchApiError extends Error {
  constructor(
    readonly status: 400 | 404 | 409 | 501,
    message: string,
    readonly problems?: SchemaProblem[],
  ) {
    super(message);
  }
}

/** Settings of {@link WatchService}. */
export interface WatchServiceOptions {
  /** This server's id as a scanner. Default: host name, process id and a random part. */
  owner?: string;
  /** The scanner lease of each rule (ms). Default 30,000. */
  leaseMs?: number;
  /** Wall clock (file times are wall-clock times). Default `Date.now`. */
  now?: () => number;
  log?: (level: 'info' | 'warn' | 'error', message: string) => void;
}

/** Job events whose job may have written files, or ended. */
const ENDED = new Set(['job.completed', 'job.failed', 'job.cancelled', 'job.removed']);

/** Jobs waiting to be settled beyond which new ones are dropped (what they would settle is settled when the files are next looked at). */
const MAX_QUEUED_JOBS = 100_000;

/** Ids of this server's own submissions kept to recognise their `job.submitted` events. */
const MAX_OWN_JOBS = 100_000;

/**
 * The watch folders of one server: the rules of the config and those put
 * through the API (kept in the store, read again every third of a lease so
 * that every server on the store follows changes), a {@link RuleRunner} per
 * rule, and the settling of jobs' ends from the store's event log (a file's
 * job ended; files a job wrote). Without a store that keeps watch state it
 * does nothing (and config rules are a startup error).
 */
export class WatchService {
  readonly #ctx: ServerContext;
  readonly #watch: WatchStore | undefined;
  readonly #configRules: WatchRule[];
  readonly #owner: string;
  readonly #leaseMs: number;
  readonly #now: () => number;
  readonly #log: (level: 'info' | 'warn' | 'error', message: string) => void;
  readonly #runners = new Map<string, { runner: RuleRunner; source: 'config' | 'api'; key: string }>();
  readonly #ownJobs = new Set<string>();
  readonly #settlement: JobSettlement | undefined;
  /** Jobs whose submission elsewhere and/or end wait to be settled, in event order. */
  readonly #backlog = new Map<string, { submitted: boolean; ended: boolean }>();
  /** The loop working through the backlog, while it runs. */
  #draining: Promise<void> | undefined;
  #dropped = false;
  /** The id of the last event heard, and who waits for a given one (see {@link settled}). */
  #lastEvent: string | undefined;
  #onEventId: ((id: string) => void) | undefined;
  #unsubscribe: (() => void) | undefined;
  #following: Promise<void> | undefined;
  #reloadTimer: NodeJS.Timeout | undefined;
  #reloading: Promise<void> | undefined;
  #stopped = false;

  constructor(ctx: ServerContext, watch: WatchStore | undefined, rules: readonly WatchRule[], options: WatchServiceOptions = {}) {
    this.#ctx = ctx;
    this.#watch = watch;
    this.#configRules = [...rules];
    this.#owner = options.owner ?? `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`;
    this.#leaseMs = options.leaseMs ?? 30_000;
    this.#now = options.now ?? Date.now;
    this.#log = options.log ?? (() => undefined);
    if (watch) {
      this.#settlement = new JobSettlement(ctx.store, watch, {
        folders: () => this.#folders(),
        maxFailures: (rule) => this.#runners.get(rule)?.runner.rule.maxFailures ?? WATCH_DEFAULTS.max_failures,
      }, this.#now);
    }
  }

  /** This server's id as a scanner. */
  get owner(): string {
    return this.#owner;
  }

  /** The runner of a rule (tests and the bench look at its tracker). */
  runner(name: string): RuleRunner | undefined {
    return this.#runners.get(name)?.runner;
  }

  /**
   * Check the config rules' templates, start a runner per rule and follow
   * the event log. A {@link ConfigError} naming `watch[i].template` when a
   * config rule's template cannot be used, or when there are config rules
   * and the store keeps no watch state.
   */
  async start(): Promise<void> {
    if (!this.#watch) {
      if (this.#configRules.length) throw new ConfigError('watch: this store keeps no watch folder state (the SQLite and Redis stores do)');
      return;
    }
    for (const [i, rule] of this.#configRules.entries()) {
      try {
        await new WatchTemplate(rule.template, rule.variables).document();
      } catch (error) {
        throw new ConfigError(`watch[${i}].template: ${(error as Error).message}`, { cause: error });
      }
    }
    for (const rule of this.#configRules) this.#run(rule, 'config');
    await this.#reload();
    await this.#following;
    this.#reloadTimer = setInterval(() => void this.#reload(), Math.max(100, this.#leaseMs / 3));
    this.#reloadTimer.unref();
  }

  /**
   * Follow the event log (once, from the first rule on: a server without
   * rules does not read the log for them).
   */
  #follow(): void {
    if (this.#unsubscribe || this.#following || this.#stopped) return;
    this.#following = this.#ctx.hub
      .subscribe({
        send: (event) => this.#onEvent(event),
        // Missed events (the log was trimmed past this server): what they would have settled is settled when the files are next looked at.
        reset: (lastId) => {
          this.#lastEvent = lastId;
          if (lastId !== undefined) this.#onEventId?.(lastId);
          this.#log('warn', 'watch folders: job events were missed (the event log was trimmed past this server); their files are settled when next looked at');
        },
      })
      .then((unsubscribe) => {
        if (this.#stopped) unsubscribe();
        else this.#unsubscribe = unsubscribe;
      })
      .catch((error: unknown) => this.#log('warn', `watch folders: the event log cannot be followed now (tried again with the next rule change): ${(error as Error).message}`))
      .finally(() => (this.#following = undefined));
  }

  /** Stop every runner (leases given up) and stop following the log. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#reloadTimer);
    await this.#following;
    this.#unsubscribe?.();
    await this.#reloading;
    await Promise.all([...this.#runners.values()].map(({ runner }) => runner.stop()));
    this.#runners.clear();
    await this.#draining;
  }

  /** Every watched folder of every rule (real paths once a rule is scanned here). */
  #folders(): string[] {
    return [...this.#runners.values()].flatMap(({ runner }) => [...runner.folders, ...runner.rule.folders]);
  }

  #run(rule: WatchRule, source: 'config' | 'api'): void {
    const runner = new RuleRunner(rule, {
      ctx: this.#ctx,
      watch: this.#watch!,
      settlement: this.#settlement!,
      folders: () => this.#folders(),
      onSubmitted: (jobId) => {
        if (this.#ownJobs.size >= MAX_OWN_JOBS) this.#ownJobs.delete(this.#ownJobs.values().next().value!);
        this.#ownJobs.add(jobId);
      },
      now: this.#now,
      owner: this.#owner,
      leaseMs: this.#leaseMs,
      log: this.#log,
    });
    this.#runners.set(rule.name, { runner, source, key: JSON.stringify(rule.config) });
    runner.start();
    this.#follow();
  }

  /** Follow the API's rules in the store: start new ones, restart changed ones, stop deleted ones. */
  #reload(): Promise<void> {
    this.#reloading ??= (async () => {
      try {
        const stored = await this.#watch!.rules();
        if (this.#stopped) return;
        const wanted = new Map<string, WatchRule>();
        for (const { name, rule } of stored) {
          if (this.#configRules.some((r) => r.name === name)) continue; // the config's rule of that name wins
          const problems = watchRuleProblems(rule);
          if (problems.length) {
            this.#log('warn', `watch rule ${name} (kept in the store) is not valid and is left alone: ${problems.map((p) => `${p.path} ${p.message}`).join('; ')}`);
            continue;
          }
          wanted.set(name, resolveWatchRule(rule as WatchRuleConfig));
        }
        for (const [name, entry] of [...this.#runners]) {
          if (entry.source !== 'api') continue;
          const rule = wanted.get(name);
          if (!rule || JSON.stringify(rule.config) !== entry.key) {
            this.#runners.delete(name);
            await entry.runner.stop();
          }
        }
        for (const [name, rule] of wanted) if (!this.#runners.has(name) && !this.#stopped) this.#run(rule, 'api');
      } catch (error) {
        this.#log('warn', `watch rules could not be read from the store: ${(error as Error).message}`);
      } finally {
        this.#reloading = undefined;
      }
    })();
    return this.#reloading;
  }

  /** A reload that reads the store after now (not one under way that may have read it before a change). */
  async #reloadNow(): Promise<void> {
    while (this.#reloading) await this.#reloading;
    await this.#reload();
  }

  // ---- the event log: jobs that ended, jobs submitted elsewhere ----

  #onEvent(event: QueueEvent): void {
    this.#lastEvent = event.id;
    this.#onEventId?.(event.id);
    const isEnd = ENDED.has(event.type);
    if (!isEnd && event.type !== 'job.submitted') return;
    const jobId = (event.data.job as { job_id?: unknown } | undefined)?.job_id;
    if (typeof jobId !== 'string') return;
    if (event.type === 'job.submitted' && this.#ownJobs.delete(jobId)) return;
    if (![...this.#runners.values()].some(({ runner }) => runner.active)) return;
    if (this.#backlog.size >= MAX_QUEUED_JOBS && !this.#backlog.has(jobId)) {
      if (!this.#dropped) this.#log('warn', 'watch folders: job events come faster than they are settled; the rest is settled when the files are next looked at');
      this.#dropped = true;
      return;
    }
    const entry = this.#backlog.get(jobId) ?? { submitted: false, ended: false };
    if (isEnd) entry.ended = true;
    else entry.submitted = true;
    this.#backlog.set(jobId, entry);
    this.#draining ??= this.#drain().finally(() => (this.#draining = undefined));
  }

  /** Settle the backlog, one job at a time, in event order. */
  async #drain(): Promise<void> {
    while (this.#backlog.size && !this.#stopped) {
      const [jobId, entry] = this.#backlog.entries().next().value as [string, { submitted: boolean; ended: boolean }];
      this.#backlog.delete(jobId);
      try {
        if (entry.submitted) await this.#submittedElsewhere(jobId);
        if (entry.ended) await this.#ended(jobId);
      } catch (error) {
        this.#log('warn', `watch folders: settling job ${jobId}: ${(error as Error).message}`);
      }
    }
    this.#dropped = false;
  }

  /** Resolves once every job event appended to the log so far has been heard and settled (tests and the bench wait for it). */
  async settled(): Promise<void> {
    const target = await this.#ctx.store.events.last();
    if (target !== undefined && target !== this.#lastEvent && this.#unsubscribe) {
      await new Promise<void>((resolve) => {
        const previous = this.#onEventId;
        this.#onEventId = (id) => {
          previous?.(id);
          if (id === target) resolve();
        };
      });
    }
    while (this.#draining) await this.#draining;
  }

  /** A job ended: its file's record (if a rule scanned here submitted it) and the files it was to write. */
  async #ended(jobId: string): Promise<void> {
    const record = await this.#watch!.fileOfJob(jobId);
    const runner = record && this.#runners.get(record.rule)?.runner;
    if (record && runner?.active) await runner.settleEnded(record.path, jobId);
    const outputs = await this.#settlement!.settleOutputs(jobId);
    // A file that a job was to write and did not: judge it like any other file.
    for (const [path, settled] of outputs) if (settled === undefined) for (const { runner } of this.#runners.values()) runner.tracker.reopen(path);
  }

  /** A job submitted otherwise (`POST /queue`, another server's rule): the files of the watched folders it names and that do not exist yet are its to write. */
  async #submittedElsewhere(jobId: string): Promise<void> {
    const job = await this.#ctx.store.get(jobId);
    if (!job) return;
    const now = this.#now();
    const named = pathsNamedBy(job.job, this.#folders());
    const fresh = [];
    for (const path of named) if (!(await stat(path).then(() => true, () => false))) fresh.push({ path, job_id: jobId, at: now });
    await this.#watch!.putOutputs(fresh);
  }

  // ---- the API ----

  #store(): WatchStore {
    if (!this.#watch) throw new WatchApiError(501, 'this store keeps no watch folder state (the SQLite and Redis stores do)');
    return this.#watch;
  }

  #entry(name: string) {
    this.#store();
    const entry = this.#runners.get(name);
    if (!entry) throw new WatchApiError(404, `no watch rule ${JSON.stringify(name)}`);
    return entry;
  }

  /** Every rule with its status. */
  async list(): Promise<WatchRuleView[]> {
    const watch = this.#store();
    await this.#reload();
    const statuses = await watch.scanStatuses();
    return Promise.all([...this.#runners.keys()].sort().map((name) => this.#view(name, statuses[name])));
  }

  /** One rule with its status. */
  async get(name: string): Promise<WatchRuleView> {
    this.#entry(name);
    return this.#view(name, (await this.#store().scanStatuses())[name]);
  }

  async #view(name: string, status: WatchScanStatus | undefined): Promise<WatchRuleView> {
    const { runner, source } = this.#entry(name);
    const watch = this.#store();
    const [scanner, attention] = await Promise.all([watch.leaseHolder(name, this.#now()), watch.attentionCount(name)]);
    return {
      name,
      source,
      rule: runner.rule.config,
      scanning_here: runner.active,
      ...(scanner !== undefined ? { scanner } : {}),
      ...(status ? { last_scan: status } : {}),
      attention,
      tracked: runner.tracker.size,
    };
  }

  /**
   * Create or replace an API rule (`body` with or without its `name`): 400
   * with every problem (fields, a template that cannot be read or has a
   * placeholder nothing fills), 409 for a rule of the config.
   */
  async put(name: string, body: unknown): Promise<{ view: WatchRuleView; created: boolean }> {
    const watch = this.#store();
    if (this.#configRules.some((r) => r.name === name)) throw new WatchApiError(409, `watch rule ${JSON.stringify(name)} is defined in the server config; change it there`);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new WatchApiError(400, 'the body must be a watch rule object', [{ path: '', message: 'must be an object' }]);
    const given = (body as { name?: unknown }).name;
    if (given !== undefined && given !== name) throw new WatchApiError(400, `name ${JSON.stringify(given)} is not the name in the path (${JSON.stringify(name)})`, [{ path: 'name', message: 'differs from the name in the path' }]);
    const config = { ...body, name };
    const problems = watchRuleProblems(config);
    if (problems.length) throw new WatchApiError(400, `invalid watch rule: ${problems.map((p) => `${p.path} ${p.message}`).join('; ')}`, problems);
    const rule = resolveWatchRule(config as WatchRuleConfig);
    try {
      await new WatchTemplate(rule.template, rule.variables).document();
    } catch (error) {
      throw new WatchApiError(400, `invalid watch rule: template: ${(error as Error).message}`, [{ path: 'template', message: (error as Error).message }]);
    }
    const created = !this.#runners.has(name);
    await watch.putRule({ name, rule: rule.config as unknown as Record<string, unknown>, updated_at: this.#now() });
    await this.#reloadNow();
    return { view: await this.get(name), created };
  }

  /** Delete an API rule (its files' records stay: the same rule made again submits nothing twice). */
  async delete(name: string): Promise<void> {
    const { source } = this.#entry(name);
    if (source === 'config') throw new WatchApiError(409, `watch rule ${JSON.stringify(name)} is defined in the server config; remove it there`);
    await this.#store().deleteRule(name);
    await this.#reloadNow();
  }

  /**
   * Scan a rule now. A dry run (any server) lists what would be submitted
   * and why each other file is not; a real scan runs on the server that
   * holds the rule's scanner lease (409 elsewhere, naming it).
   */
  async scan(name: string, options: { dry: boolean; limit?: number }): Promise<ScanReport> {
    const { runner } = this.#entry(name);
    if (!options.dry && !runner.active) {
      const holder = await this.#store().leaseHolder(name, this.#now());
      throw new WatchApiError(409, `watch rule ${JSON.stringify(name)} is scanned by ${holder ? `server ${holder}` : 'no server right now (its lease is being taken)'}; scan there, or ask for a dry run`);
    }
    return runner.scan(options);
  }

  /** Files of a rule that need attention, a page at a time. */
  async attention(name: string, page: { limit: number; cursor?: string }): Promise<WatchFilePage> {
    this.#entry(name);
    return this.#store().attention(name, page);
  }

  /** A rule's record of one file. */
  async file(name: string, path: string): Promise<WatchFileRecord | undefined> {
    this.#entry(name);
    return (await this.#store().files(name, [path])).get(path);
  }

  /** Forget a file: its current version is judged as new (after a failure that needed attention, say). */
  async forget(name: string, path: string): Promise<boolean> {
    const { runner } = this.#entry(name);
    const forgotten = await this.#store().forgetFile(name, path);
    runner.tracker.reopen(path);
    return forgotten;
  }
}
