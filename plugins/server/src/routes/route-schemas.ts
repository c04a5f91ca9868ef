import { Type } from '@fastify/type-provider-typebox';
import { QUEUE_ID_MAX_LENGTH } from '@sisyphus/core/transport';
import { MAX_PAGE_SIZE } from '../store/list-paging.js';

/*
 * The TypeBox schemas of the routes' params, query strings and bodies:
 * fastify checks every request against them (through the TypeBox type
 * provider's validator) and the OpenAPI page at /doc shows them. The
 * original API's clients send loose bodies (extra fields, Python-formatted
 * times), so bodies name the fields we read and allow the rest.
 */

/** A job id in a path. New ids follow the queue's id rule (checked at submit); any routable id is looked up. */
export const JobIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: QUEUE_ID_MAX_LENGTH, description: 'Job id' }) });

/** A worker id in a path (the original worker's HOST_UUID; ours follow the queue's id rule). */
export const WorkerIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: QUEUE_ID_MAX_LENGTH, description: 'Worker id' }) });

/** A module-data name: letters, digits, `_`, `.` or `-`, at most 128. */
const DataName = Type.String({ pattern: '^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$', description: "Letters, digits, '_', '.' or '-' (at most 128)" });
export const DataModuleParams = Type.Object({ module: DataName });
export const DataRecordParams = Type.Object({ module: DataName, name: DataName });

/** `limit` and `cursor` of a paged listing. */
const Limit = Type.Integer({ minimum: 1, maximum: MAX_PAGE_SIZE, description: `Page size, 1 to ${MAX_PAGE_SIZE}` });
const Cursor = Type.String({ minLength: 1, maxLength: 4096, description: 'The `next` of the previous page' });

export const QueueQuery = Type.Object({ limit: Type.Optional(Limit), cursor: Type.Optional(Cursor) });

/** A final state a retry may start from. */
const RetryState = Type.Union([Type.Literal('failed'), Type.Literal('cancelled')]);
const JobStateName = Type.Union([Type.Literal('queued'), Type.Literal('running'), Type.Literal('waiting-children'), Type.Literal('completed'), Type.Literal('failed'), Type.Literal('cancelled')]);
/** An ISO 8601 time (or epoch ms as digits) in a filter. */
const FilterTime = Type.String({ minLength: 1, maxLength: 40, description: 'ISO 8601 time (e.g. 2026-11-30T10:00:00Z) or epoch milliseconds' });

/** The history filters of `GET /jobs` and `POST /jobs/retry`. */
const FilterFields = {
  title: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Case-insensitive part of the title' })),
  worker: Type.Optional(Type.String({ minLength: 1, maxLength: QUEUE_ID_MAX_LENGTH, description: 'Worker id that ran (or runs) the job' })),
  since: Type.Optional(FilterTime),
  until: Type.Optional(FilterTime),
};

export const JobsQuery = Type.Object({
  state: Type.Optional(Type.Union([JobStateName, Type.Literal('finished')], { description: 'One state, or finished: completed, failed or cancelled' })),
  ...FilterFields,
  limit: Type.Optional(Limit),
  cursor: Type.Optional(Cursor),
});

/** `POST /jobs/retry`: retry every failed (or cancelled) job the filter selects, up to `limit`. */
export const RetryAllBody = Type.Object(
  { state: Type.Optional(RetryState), ...FilterFields, limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, description: 'Most jobs retried in one call (default 1000)' })) },
  { additionalProperties: false },
);

/** `PATCH /jobs/{id}`: what may change on a queued job. */
export const JobPatchBody = Type.Object(
  { priority: Type.Integer({ minimum: Number.MIN_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER, description: 'Higher runs first (as at submit)' }) },
  { additionalProperties: false },
);

/** `POST /queue/template`: a job file's text with its variables. */
export const TemplateBody = Type.Object(
  {
    template: Type.String({ minLength: 1, maxLength: 1024 * 1024, description: 'The job file: JSON or YAML text with {{ placeholders }}' }),
    variables: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'A value for each placeholder' })),
    priority: Type.Optional(Type.Integer({ minimum: Number.MIN_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER, description: 'Higher runs first' })),
    check: Type.Optional(Type.Boolean({ description: 'Only parse: answer the placeholders and the parsed document' })),
  },
  { additionalProperties: false },
);

export const EventsQuery = Type.Object({
  last_event_id: Type.Optional(Type.String({ maxLength: 200, description: 'Resume after this event (as the Last-Event-ID header does)' })),
});

export const PollQuery = Type.Object({
  wait: Type.Optional(Type.Number({ minimum: 0, description: 'Long-poll up to this many seconds (capped by the server)' })),
  worker_id: Type.Optional(Type.String({ maxLength: QUEUE_ID_MAX_LENGTH, description: 'The polling worker: it holds the lease' })),
});

export const CompletedQuery = Type.Object({
  next: Type.Optional(Type.Union([Type.Literal('1'), Type.Literal('0')], { description: '1: the reply also hands the reporting worker its next job' })),
});

export const WorkersQuery = Type.Object({
  offline: Type.Optional(Type.Union([Type.Literal('1'), Type.Literal('0')], { description: '1: also workers whose heartbeat expired, with online and last_seen' })),
});

/** `PATCH /queue`, `PATCH /workers/{id}`: attributes to set. */
export const AttributesBody = Type.Object(
  { disabled: Type.Optional(Type.Boolean({ description: 'Pause (the queue) or stop handing jobs to (a worker)' })) },
  { additionalProperties: true, description: 'Attributes to set; others are kept' },
);

/** `PATCH /jobs/{id}/completed`: the original worker's report. */
export const CompletionBody = Type.Object(
  {
    failed: Type.Boolean(),
    info: Type.Optional(
      Type.Object(
        { worker_id: Type.Optional(Type.String({ maxLength: QUEUE_ID_MAX_LENGTH, description: 'The reporting worker: it must hold the lease' })) },
        { additionalProperties: true, description: 'The result record (start_time, end_time, runtime, worker, worker_id, version, completed, message, ...)' },
      ),
    ),
  },
  { additionalProperties: true },
);

/** `POST /workers/{id}`: a heartbeat in the original worker's shape (times arrive as Python strings). */
export const HeartbeatBody = Type.Object(
  {
    status: Type.Optional(Type.String({ description: 'startup, idle or in_progress' })),
    hostname: Type.Optional(Type.String()),
    version: Type.Optional(Type.String()),
    online_at: Type.Optional(Type.Unknown()),
    job_id: Type.Optional(Type.Union([Type.String(), Type.Null()], { description: 'The running job: its lease is renewed' })),
    job_title: Type.Optional(Type.Unknown()),
    progress: Type.Optional(Type.Unknown()),
  },
  { additionalProperties: true },
);

/** `POST /queue`: checked in full by the job schema and the modules' schemas (see job-submission.ts), which name every problem's path. */
export const SubmissionBody = Type.Object(
  {
    job_title: Type.Optional(Type.String()),
    job_name: Type.Optional(Type.String()),
    job_id: Type.Optional(Type.String()),
    priority: Type.Optional(Type.Integer()),
    tasks: Type.Optional(Type.Array(Type.Unknown(), { description: 'Each {module, data}' })),
  },
  { additionalProperties: true },
);

/** `POST /data/{module}/{name}`: a record (an object); for ffmpeg `{name?, options}`. */
export const DataRecordBody = Type.Object({}, { additionalProperties: true, description: 'Any JSON object' });
