import { randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import type { ServerContext } from '../server-context.js';
import { SubmissionError, prepareJob } from '../job-submission.js';
import type { NewJob } from '../store/queue-store.js';
import { type WatchFileRecord, type WatchOutputRecord, type WatchStore } from '../store/watch-store.js';
import { decideFile, type FileDecision } from './file-decision.js';
import { fileFingerprint } from './file-fingerprint.js';
import { fileVariables } from './file-variables.js';
import { isOpen, type JobSettlement } from './job-settlement.js';
import { pathsNamedBy } from './job-paths.js';
import type { WatchRule } from './watch-rule.js';
import type { WatchTemplate } from './watch-template.js';

/** A stable, included file to judge. */
export interface Candidate {
  path: string;
  /** The rule's folder it is under, and its path there (`/`-separated). */
  folder: string;
  relative: string;
  size: number;
  mtimeMs: number;
}

/** What judging a batch did: a decision per file (submitted ones carry their job id), and the problems met. */
export interface Judgement {
  decisions: FileDecision[];
  errors: string[];
}

/** A file to submit: why, and what its record carries over. */
interface Submission {
  candidate: Candidate;
  /** The file's failed jobs in a row so far. */
  failures: number;
  fingerprint: () => Promise<string>;
  reason: string;
}

/** What {@link RuleJudge} works with. */
export interface RuleJudgeDeps {
  ctx: ServerContext;
  watch: WatchStore;
  settlement: JobSettlement;
  /** Every watched folder (for the files a job's document names). */
  folders(): readonly string[];
  /** A job this server submitted (its `job.submitted` event needs no look at its document). */
  onSubmitted(jobId: string): void;
  /** Wall clock, epoch ms. */
  now(): number;
}

/**
 * Judges stable files of one rule and submits the new versions (see
 * `decideFile` for the rules). A submission goes the way of `POST /queue`
 * (`prepareJob`: the job schema, each module's data schema, capability
 * requirements; then the store), with the rendered template's `job_id` set
 * to an id chosen first and recorded with the file (`submitting`), so that
 * a crash between the two neither loses the file nor submits it twice: a
 * record whose job never reached the store counts as not submitted.
 */
export class RuleJudge {
  constructor(
    private readonly rule: WatchRule,
    private readonly template: WatchTemplate,
    private readonly deps: RuleJudgeDeps,
  ) {}

  /** Judge `candidates` (at most `WATCH_BATCH`); with `dry`, nothing is written or submitted. */
  async judge(candidates: readonly Candidate[], dry: boolean): Promise<Judgement> {
    const { watch, settlement } = this.deps;
    const paths = candidates.map((c) => c.path);
    const [records, outputs] = await Promise.all([watch.files(this.rule.name, paths), watch.outputs(paths)]);
    const decisions: FileDecision[] = [];
    const errors: string[] = [];
    const touchedRecords: WatchFileRecord[] = [];
    const touchedOutputs: WatchOutputRecord[] = [];
    const submit: Submission[] = [];
    // The outputs of one job are settled once per batch.
    const settledJobs = new Map<string, Map<string, WatchOutputRecord | undefined>>();
    for (const candidate of candidates) {
      const { path } = candidate;
      let record = records.get(path);
      let jobState: string | undefined;
      let failures = record?.failures ?? 0;
      let output = outputs.get(path);
      let print: Promise<string> | undefined;
      const fingerprint = () => (print ??= fileFingerprint(path, candidate.size));
      try {
        if (record && isOpen(record)) {
          const settled = await settlement.settleFile(record, dry);
          record = settled.record;
          jobState = settled.jobState;
          failures = record?.failures ?? settled.failures ?? 0;
        }
        if (output && output.size === undefined) {
          let settled = settledJobs.get(output.job_id);
          if (!settled) settledJobs.set(output.job_id, (settled = await settlement.settleOutputs(output.job_id, dry)));
          if (settled.has(path)) output = settled.get(path);
        }
        const outcome = await decideFile({
          path,
          size: candidate.size,
          mtimeMs: candidate.mtimeMs,
          ...(record ? { record } : {}),
          ...(jobState ? { recordJobState: jobState } : {}),
          ...(output ? { output } : {}),
          outputsAreWork: this.rule.outputsAreWork,
          fingerprint,
        });
        if (outcome.record) touchedRecords.push(outcome.record);
        if (outcome.output) touchedOutputs.push(outcome.output);
        if (outcome.decision.action === 'submit') submit.push({ candidate, failures, fingerprint, reason: outcome.decision.reason });
        else decisions.push({ path, ...outcome.decision });
      } catch (error) {
        decisions.push({ path, action: 'skip', skip: 'unreadable', reason: `cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}` });
      }
    }
    if (!dry) {
      await watch.putFiles(touchedRecords);
      await watch.putOutputs(touchedOutputs);
    }
    if (submit.length) decisions.push(...(await this.#submit(submit, dry, errors)));
    return { decisions, errors };
  }

  /** Render, check and queue a job per file (see the class). */
  async #submit(files: readonly Submission[], dry: boolean, errors: string[]): Promise<FileDecision[]> {
    const { ctx, watch } = this.deps;
    const decisions: FileDecision[] = [];
    try {
      await this.template.document();
    } catch (error) {
      const message = (error as Error).message;
      errors.push(message);
      return files.map(({ candidate }) => ({ path: candidate.path, action: 'skip', skip: 'template', reason: message }));
    }
    const queued: Array<{ job: NewJob; record: WatchFileRecord }> = [];
    const refused: WatchFileRecord[] = [];
    const outputs: WatchOutputRecord[] = [];
    for (const { candidate, failures, fingerprint, reason } of files) {
      const { path } = candidate;
      const now = this.deps.now();
      let print: string;
      let job: NewJob;
      try {
        print = await fingerprint();
      } catch (error) {
        decisions.push({ path, action: 'skip', skip: 'unreadable', reason: `cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}` });
        continue;
      }
      const version = { rule: this.rule.name, path, size: candidate.size, mtime_ms: candidate.mtimeMs, fingerprint: print, updated_at: now };
      try {
        const rendered = await this.template.render({ ...fileVariables(path, candidate, candidate.folder, this.rule.name) });
        job = await prepareJob({ ...rendered, job_id: randomUUID() }, { registry: ctx.registry, store: ctx.store, acceptUnknown: ctx.options.acceptUnknownModules, now: new Date(now) });
      } catch (error) {
        // The job this file makes is refused: a failure of this version (not tried again until it changes).
        const message = error instanceof SubmissionError ? `invalid job: ${error.message}` : (error as Error).message;
        const count = failures + 1;
        refused.push({ ...version, outcome: 'failed', error: message, failures: count, attention: count >= this.rule.maxFailures });
        decisions.push({ path, action: 'skip', skip: 'refused', reason: `the job for it was refused: ${message}` });
        continue;
      }
      const record: WatchFileRecord = { ...version, job_id: job.job_id, outcome: 'submitting', failures, attention: false };
      queued.push({ job, record });
      for (const named of pathsNamedBy(job.job, this.deps.folders())) {
        if (named !== path && !(await exists(named))) outputs.push({ path: named, job_id: job.job_id, at: now });
      }
      decisions.push({ path, action: 'submit', reason, ...(dry ? {} : { job_id: job.job_id }) });
    }
    if (dry) return decisions;
    // First the ids (and the files the jobs will write), then the jobs: a crash between leaves records whose jobs are missing, never jobs without records.
    await watch.putFiles([...refused, ...queued.map((q) => q.record)]);
    await watch.putOutputs(outputs);
    const pending: WatchFileRecord[] = [];
    for (const { job, record } of queued) {
      try {
        await ctx.store.submit(job);
        this.deps.onSubmitted(job.job_id);
        pending.push({ ...record, outcome: 'pending' });
      } catch (error) {
        errors.push(`submitting the job of ${record.path}: ${(error as Error).message}`);
        const decision = decisions.find((d) => d.path === record.path)!;
        Object.assign(decision, { action: 'skip', skip: 'refused', reason: `the store refused the job: ${(error as Error).message}` });
      }
    }
    if (pending.length) {
      ctx.listing.invalidate();
      ctx.waiters.wake(pending.length);
      await watch.putFiles(pending);
    }
    return decisions;
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

