/** Name of the BullMQ queue inside a prefix: its keys are `${prefix}:jobs:*`. */
export const QUEUE_NAME = 'jobs';

/** A state a job ends in (it never leaves it). */
export type FinalState = 'completed' | 'failed' | 'cancelled';

/** A job state that has its own index (see {@link StoreKeys.state}): every state. */
export type IndexedState = 'queued' | 'running' | 'waiting-children' | 'completed' | 'failed' | 'cancelled';

/**
 * Names of the plain Redis keys the store keeps next to BullMQ's, all under
 * `${prefix}:sis:` so that several installations (prefixes) share one Redis.
 */
export class StoreKeys {
  private readonly base: string;

  constructor(prefix: string) {
    this.base = `${prefix}:sis:`;
  }

  /**
   * What every key of the store starts with (`${prefix}:sis:`). The flow
   * fragment (lua/fragments/job-ended.lua) makes the keys of a job's
   * parent and children from it, named as here.
   */
  get root(): string {
    return this.base;
  }

  /**
   * Hash: the live record of one job (state, attempts, holder, lease, result
   * ...; while leased, `lock_token`: the BullMQ lock token it was taken
   * with, shared by every server instance and never shown to clients).
   */
  job(jobId: string): string {
    return `${this.jobPrefix}${jobId}`;
  }
  /** What every {@link job} key starts with. */
  get jobPrefix(): string {
    return `${this.base}job:`;
  }
  /** Sorted set: every job id, scored by `finished_at` (else `added`) in epoch ms: the newest-first history. */
  get all(): string {
    return `${this.base}all`;
  }
  /** Sorted set: the ids of the jobs in one state, scored as {@link all} (`waiting-children` jobs: by `added`). */
  state(state: IndexedState): string {
    return `${this.base}state:${state}`;
  }
  /**
   * Sorted set: the history index of finished jobs of one final state,
   * scored as {@link state}, members `job id \0 lowercased title` (see
   * fragments/listing-index.lua): a filtered history page reads titles in
   * bulk from it instead of from each record.
   */
  history(state: FinalState): string {
    return `${this.base}history:${state}`;
  }
  /** Sorted set: {@link history} of the jobs of one worker (the Lua scripts name it the same way). */
  workerHistory(state: FinalState, workerId: string): string {
    return `${this.history(state)}:worker:${workerId}`;
  }
  /** Sorted set: the queued, running and waiting-children jobs, scored by `added` (epoch ms), members `job id \0 lowercased title` (see fragments/listing-index.lua). */
  get live(): string {
    return `${this.base}live`;
  }
  /** String: the version of the listing indexes ({@link history}, {@link live}) this prefix holds (absent: written before they existed). */
  get indexVersion(): string {
    return `${this.base}index-version`;
  }
  /** Stream: the queue event log (see event-log.ts), trimmed to the newest `EVENT_LOG_KEEP` entries now and then. */
  get events(): string {
    return `${this.base}events`;
  }
  /** String: the id of the newest entry trimmed from {@link events} (absent while none was). */
  get eventsTrimmed(): string {
    return `${this.base}events-trimmed`;
  }
  /**
   * List: the ids of every child `parentId` queued (each round's, then its
   * finally job), in the order they were queued (`QueueStore.children`).
   */
  children(parentId: string): string {
    return `${this.base}children:${parentId}`;
  }
  /** Set: the children of `parentId`'s current round that have not ended yet (BullMQ's `:dependencies` of a parent). */
  dependencies(parentId: string): string {
    return `${this.base}dependencies:${parentId}`;
  }
  /** Hash: child id -> `ChildResult` JSON of the children of `parentId`'s current round that ended (BullMQ's `:processed`). */
  processed(parentId: string): string {
    return `${this.base}processed:${parentId}`;
  }
  /** Hash: the record fields of `parentId`'s finally job until it is queued (see job-ended.lua). */
  finally(parentId: string): string {
    return `${this.base}finally:${parentId}`;
  }
  /**
   * Sorted set: job id -> epoch ms a script queued it (a flow's child, finally
   * job or resumed parent) while its BullMQ job is not added yet: the store
   * adds it right after the script, and the lease sweep adds what a crash
   * left (see job-outbox.ts).
   */
  get outbox(): string {
    return `${this.base}outbox`;
  }
  /**
   * Sorted set: the queued jobs of one requirement set that BullMQ holds
   * (`requirement-sets.ts`; `any`: jobs without requirements), scored as
   * BullMQ's prioritized set scores them: the lease takes the best head
   * among the sets a worker can run (lua/fragments/ready-index.lua).
   */
  ready(setId: string): string {
    return `${this.base}ready:${setId}`;
  }
  /** Set: the ids of the requirement sets whose {@link ready} index may hold jobs. */
  get readySets(): string {
    return `${this.base}ready-sets`;
  }
  /** Hash: requirement set id -> its `JobRequirements` JSON (never removed: sets are few). */
  get requirementSets(): string {
    return `${this.base}requirement-sets`;
  }
  /**
   * Hash: requirement set id -> '1' | '0', whether the workers whose
   * capabilities have `fingerprint` (requirement-sets.ts; `none`: workers
   * that advertise none) can run its jobs, as leases found out; expires a day
   * after its last change.
   */
  eligible(fingerprint: string): string {
    return `${this.base}eligible:${fingerprint}`;
  }
  /** String: the version of the {@link ready} indexes this prefix holds (absent: written before capability routing). */
  get readyVersion(): string {
    return `${this.base}ready-version`;
  }
  /** Sorted set: running job id -> `lease_expires` (epoch ms). */
  get leases(): string {
    return `${this.base}leases`;
  }
  /** String: epoch ms until which a running job whose lease ran out stays its holder's (the sweep's grace period after an outage). */
  get leaseGrace(): string {
    return `${this.base}lease-grace`;
  }
  /** Hash: queue attribute name -> JSON value. */
  get queueAttributes(): string {
    return `${this.base}queue-attributes`;
  }
  /** Hash: attribute name -> JSON value, of one worker. */
  workerAttributes(workerId: string): string {
    return `${this.base}worker-attributes:${workerId}`;
  }
  /** Set: ids of the workers that have attributes. */
  get workersWithAttributes(): string {
    return `${this.base}workers-with-attributes`;
  }
  /** Hash: worker id -> JSON `{status, last_seen, expires_at}` of its last heartbeat. */
  get heartbeats(): string {
    return `${this.base}heartbeats`;
  }
  /** Pub/sub channel: a message whenever jobs may have become available to poll. */
  get wakeChannel(): string {
    return `${this.base}wake`;
  }
  /** Pub/sub channel: the id of a running job whose cancel was just requested. */
  get cancelChannel(): string {
    return `${this.base}cancel`;
  }
  /** Hash: record name -> JSON record, of one module. */
  data(module: string): string {
    return `${this.base}data:${module}`;
  }
}
