import { ErrorCodes } from '@sisyphus/core';
import { jobExists, StoreError, type ChildResult, type FinishResult, type StoredJob, type WaitForChildren } from '@sisyphus/server/store';
import type { BullmqMoves } from './bullmq-moves.js';
import type { JobLeases } from './job-leases.js';
import type { JobListings } from './job-listings.js';
import { effectsOf, type JobOutbox } from './job-outbox.js';
import { isoTime, newRecordFields, timeScore } from './job-record.js';
import { runScript } from './lua-scripts.js';
import type { StoreContext } from './store-context.js';

/** The reply of wait-children.lua. */
type WaitReply = ['ok', string, string[], string[]] | ['not-found' | 'lease-lost' | 'child'] | ['exists', string];

/**
 * Fan-out (flows): a running job hands over children and waits for them
 * (wait-children.lua: our record, the children's records and the flow keys
 * in one step), then BullMQ follows: the job's BullMQ job is taken out of
 * BullMQ (it holds no worker now; it is added again when it resumes) and
 * the children are added (job-outbox.ts). How each child's end moves the
 * flow on is in lua/fragments/job-ended.lua, run by the script of that end.
 */
export class JobFlows {
  constructor(
    private readonly ctx: StoreContext,
    private readonly leases: JobLeases,
    private readonly moves: BullmqMoves,
    private readonly outbox: JobOutbox,
    private readonly listings: JobListings,
  ) {}

  async waitForChildren(jobId: string, workerId: string | undefined, wait: WaitForChildren, now: number): Promise<FinishResult> {
    const { redis, keys: k } = this.ctx;
    const finallyFields = wait.finally === undefined ? [] : newRecordFields(wait.finally, jobId);
    const args: Array<string | number> = [
      jobId,
      workerId ?? '',
      now,
      isoTime(now),
      k.root,
      JSON.stringify(wait.result),
      wait.task_index,
      wait.state === undefined ? '' : (JSON.stringify(wait.state) ?? ''),
      JSON.stringify(wait.children.map((child) => child.job_id)),
      wait.finally?.job_id ?? '',
      finallyFields.length,
      ...finallyFields,
    ];
    for (const child of wait.children) {
      const fields = newRecordFields(child, jobId);
      args.push(child.job_id, timeScore(child.added), fields.length, ...fields);
    }
    const reply = (await runScript(
      redis,
      'wait-children',
      [k.job(jobId), k.leases, k.state('running'), k.state('queued'), k.state('waiting-children'), k.all, k.live],
      args,
    )) as WaitReply;
    if (reply[0] === 'exists') throw jobExists(reply[1]);
    if (reply[0] === 'child') {
      throw new StoreError(ErrorCodes.JOB_STATE, `job ${jobId} is a child of a flow: a child cannot wait for children of its own`);
    }
    if (reply[0] !== 'ok') return reply[0];
    const [, token, queued, discarded] = reply;
    this.leases.forget(jobId);
    // Out of BullMQ while it waits (it holds the lock as a finish does): added again when it resumes.
    await this.moves.retire(jobId, token);
    await this.outbox.settle(effectsOf(queued, discarded));
    return 'ok';
  }

  async childResults(parentId: string): Promise<ChildResult[]> {
    const { redis, keys: k } = this.ctx;
    const children = await redis.hget(k.job(parentId), 'flow_children');
    const ids = children === null ? [] : (JSON.parse(children) as string[]);
    if (ids.length === 0) return [];
    const kept = await redis.hmget(k.processed(parentId), ...ids);
    return kept.filter((json): json is string => json !== null).map((json) => JSON.parse(json) as ChildResult);
  }

  async children(parentId: string): Promise<StoredJob[]> {
    const ids = await this.ctx.redis.lrange(this.ctx.keys.children(parentId), 0, -1);
    return this.listings.records(ids);
  }
}
