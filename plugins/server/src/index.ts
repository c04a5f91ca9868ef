/**
 * @sisyphus/server: the Sisyphus job server (original API + leases, history,
 * cancel, priority, long-poll, auth) over a {@link QueueStore}.
 */
export { createServer, type SisyphusServer } from './create-server.js';
export { resolveServerOptions, type ServerOptions, type ResolvedServerOptions, type TokenGrant, type Role } from './server-options.js';
export type { ServerContext } from './server-context.js';
export { safeJson } from './json-escape.js';
export { prepareSubmission, prepareJob, SubmissionError } from './job-submission.js';
export type {
  QueueStore, StoredJob, NewJob, JobState, JobOutcome, WorkerRecord, FinishResult, CancelResult, JobPage, PollResult, FinishAndPollResult,
  JobFlow, ChildResult, WaitForChildren,
} from './store/queue-store.js';
export { startServer, defaultDbPath, type StartServerOptions, type StartedServer } from './start-server.js';
export { openSqliteStore, SqliteStore } from './store/sqlite-store.js';
export { compareWorkers } from './store/worker-order.js';
