import type { Static } from 'typebox';
import { Type } from 'typebox';
import { WatchRuleSchema } from './watch-rule-schema.js';

/** A worker's active hours (`server.schedules`); checked in full (times, days, zone) when the server starts. */
const ScheduleSchema = Type.Object(
  {
    timezone: Type.Optional(Type.String({ minLength: 1, description: "IANA time zone of the windows' times, e.g. Europe/Berlin. Default: the server's." })),
    windows: Type.Array(
      Type.Object(
        {
          days: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { description: 'Days the window starts on: mon...sun or ranges such as mon-fri. Default every day.' })),
          from: Type.String({ description: 'Start, HH:MM.' }),
          to: Type.String({ description: 'End, HH:MM (24:00: midnight); not after from: the next day.' }),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, description: 'The worker takes new jobs only while one of these is open.' },
    ),
  },
  { additionalProperties: false },
);

/**
 * The worker configuration (`sisyphus.config.*`, `.sisyphusrc*`,
 * `package.json#sisyphus`). Relative paths in it are relative to the config
 * file's folder. Documented in `docs/configuration.md`.
 */
export const WorkerConfigSchema = Type.Object(
  {
    $schema: Type.Optional(Type.String({ description: 'The JSON Schema of this file, for editors; Sisyphus ignores it.' })),
    plugins: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), {
        description: 'Plugin packages (npm names) or paths relative to this file. Default: the modules shipped with Sisyphus.',
      }),
    ),
    modules: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), { description: 'Only these modules are enabled (default: all the plugins provide).' }),
    ),
    settings: Type.Optional(
      Type.Record(Type.String(), Type.Record(Type.String(), Type.Unknown()), {
        description: 'Per-module settings, by module name (e.g. binary paths).',
      }),
    ),
    allowedRoots: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), {
        description: 'Every path a job names (path fields and file-naming option values) must lie inside one of these folders. Unset: any path (the worker warns at start-up).',
      }),
    ),
    workdir: Type.Optional(Type.String({ minLength: 1, description: 'Folder relative task paths are resolved from.' })),
    data: Type.Optional(
      Type.Record(Type.String(), Type.Record(Type.String(), Type.Record(Type.String(), Type.Unknown())), {
        description: 'Local server-side data: { module: { name: record } }, e.g. ffmpeg option sets.',
      }),
    ),
    dataDir: Type.Optional(Type.String({ minLength: 1, description: 'Folder of data files: DIR/MODULE/NAME.json|yaml.' })),
    taskTimeoutSeconds: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'Cancel a task that runs longer.' })),
    phaseTimeoutSeconds: Type.Optional(
      Type.Number({
        exclusiveMinimum: 0,
        description: "Fail a task whose init, validate or cleanup takes longer (a source on a stalled share). Default: 300, or taskTimeoutSeconds when shorter.",
      }),
    ),
    worker: Type.Optional(
      Type.Object(
        {
          id: Type.Optional(Type.String({ minLength: 1, description: 'Worker id (env HOST_UUID). Default: made once and kept in stateDir.' })),
          hostname: Type.Optional(Type.String({ minLength: 1, description: 'Host name to report (env HOSTNAME_OVERRIDE). Default: the OS host name.' })),
          heartbeatInterval: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'Seconds between heartbeats (env HEARTBEAT_INTERVAL). Default 5.' })),
          pollInterval: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'Seconds between polls while idle (env QUEUE_POLL_INTERVAL). Default 10.' })),
          networkRetryInterval: Type.Optional(
            Type.Number({ exclusiveMinimum: 0, description: 'Seconds before the first retry after a network error; doubles up to 5 min (env NETWORK_RETRY_INTERVAL). Default 20.' }),
          ),
          concurrency: Type.Optional(Type.Integer({ minimum: 1, description: 'Jobs run at once; each slot shows as worker ID-1, ID-2, ... Default 1.' })),
          stateDir: Type.Optional(Type.String({ minLength: 1, description: 'Folder keeping the worker id. Default ~/.config/sisyphus.' })),
          tags: Type.Optional(
            Type.Array(Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' }), {
              description: "Tags this worker advertises (capability routing): jobs whose requires.tags name them may run here, e.g. [gpu, fast-disk]. Letters, digits, '.', '_', '-'; compared in lower case. The flag --tag adds more.",
            }),
          ),
        },
        { additionalProperties: false, description: 'Settings of `sisyphus worker`.' },
      ),
    ),
    transport: Type.Optional(
      Type.Object(
        {
          name: Type.Optional(Type.String({ minLength: 1, description: "Transport to use, provided by a plugin. Default 'http'." })),
          options: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: "The transport's options (http: apiUrl, token, requestTimeoutMs, longPoll)." })),
        },
        { additionalProperties: false, description: "The worker's link to the job source." },
      ),
    ),
    server: Type.Optional(
      Type.Object(
        {
          host: Type.Optional(Type.String({ minLength: 1, description: 'Interface to bind. Default 127.0.0.1.' })),
          port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535, description: 'Port. Default 5000.' })),
          db: Type.Optional(Type.String({ minLength: 1, description: 'SQLite file. Default ~/.local/share/sisyphus/server.db.' })),
          store: Type.Optional(Type.String({ minLength: 1, description: 'sqlite (default) or redis://HOST:PORT/DB for the Redis/BullMQ store.' })),
          storePrefix: Type.Optional(Type.String({ minLength: 1, pattern: '^[\\w.-]+$', description: 'Key prefix in Redis. Default sisyphus.' })),
          insecure: Type.Optional(Type.Boolean({ description: 'Allow a non-loopback host without tokens.' })),
          clientExpirySeconds: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'Worker presence after a heartbeat (CLIENT_EXPIRY). Default 30.' })),
          leaseSeconds: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'Lease of a polled job without heartbeats. Default 30.' })),
          maxAttempts: Type.Optional(Type.Integer({ minimum: 1, description: 'Leases a job may lose before it fails. Default 3.' })),
          bodyLimit: Type.Optional(Type.Integer({ minimum: 1024, description: 'Largest request body in bytes. Default 1 MiB.' })),
          maxPollWaitSeconds: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'Longest long-poll. Default 60.' })),
          acceptUnknownModules: Type.Optional(Type.Boolean({ description: 'Queue tasks naming modules the server has no plugin for.' })),
          cors: Type.Optional(
            Type.Object(
              {
                origins: Type.Optional(
                  Type.Array(Type.String({ minLength: 1 }), {
                    description: 'Exact origins (scheme://host:port, no path, no wildcard) whose pages may call the API, e.g. the original dashboard at http://localhost:3000. Default none.',
                  }),
                ),
              },
              { additionalProperties: false, description: 'Browser access from other origins; without it, no CORS headers and cross-site requests get 403.' },
            ),
          ),
          retention: Type.Optional(
            Type.Object(
              Object.fromEntries(
                (['completed', 'failed', 'cancelled'] as const).map((state) => [
                  state,
                  Type.Optional(
                    Type.Object(
                      {
                        maxAgeDays: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 365_000, description: `Delete ${state} jobs that finished more than this many days ago.` })),
                        maxCount: Type.Optional(Type.Integer({ minimum: 0, description: `Keep at most this many of the newest ${state} jobs.` })),
                      },
                      { additionalProperties: false },
                    ),
                  ),
                ]),
              ),
              { additionalProperties: false, description: 'How long finished jobs stay in the history, per final state; a state without a rule is kept forever.' },
            ),
          ),
          allowedHosts: Type.Optional(
            Type.Array(Type.String({ minLength: 1 }), {
              description: 'Host names accepted in the Host header of a server on a loopback address, besides localhost, 127.x.x.x, ::1 and the bind address (others get 421).',
            }),
          ),
          schedules: Type.Optional(
            Type.Object(
              {
                tags: Type.Optional(Type.Record(Type.String(), ScheduleSchema, { description: 'Active hours of every worker with the tag (worker.tags), by tag.' })),
                workers: Type.Optional(Type.Record(Type.String(), ScheduleSchema, { description: 'Active hours of single workers, by worker id.' })),
              },
              { additionalProperties: false, description: 'Active hours written into the store at each start (replacing what is stored for the tags and workers named here).' },
            ),
          ),
          tokens: Type.Optional(
            Type.Array(
              Type.Object(
                {
                  token: Type.String({ minLength: 16, description: 'The bearer token (at least 16 characters, no surrounding whitespace, each used once).' }),
                  role: Type.Union([Type.Literal('worker'), Type.Literal('submitter'), Type.Literal('metrics'), Type.Literal('admin')]),
                  name: Type.Optional(Type.String()),
                },
                { additionalProperties: false },
              ),
              { description: 'Bearer tokens with roles; none = no authentication.' },
            ),
          ),
          watch: Type.Optional(Type.Array(WatchRuleSchema, { description: 'Watch folder rules: new and changed files become jobs (docs/server.md, "Watch folders").' })),
          webhooks: Type.Optional(
            Type.Array(
              Type.Object(
                {
                  name: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$', description: "Unique name (letters, digits, '_', '.', '-'; at most 64): GET /webhooks/{name}/deliveries." }),
                  url: Type.String({ minLength: 1, description: 'http:// or https:// URL the deliveries are POSTed to (no user name or password in it).' }),
                  events: Type.Array(Type.String({ minLength: 1 }), {
                    minItems: 1,
                    description: 'Event types to deliver, e.g. job.submitted, job.started, job.completed, job.failed, job.cancelled, worker.offline (any event of GET /events but worker.heartbeat).',
                  }),
                  filter: Type.Optional(
                    Type.Object(
                      {
                        title: Type.Optional(Type.String({ minLength: 1, description: "Case-insensitive part of the job's title." })),
                        module: Type.Optional(Type.Union([Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })], { description: 'The job has a task of this module (or of one of these).' })),
                        worker_id: Type.Optional(Type.Union([Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })], { description: "The job's worker, or the worker gone offline, is this one (or one of these)." })),
                      },
                      { additionalProperties: false, description: 'Deliver only events that match every condition given.' },
                    ),
                  ),
                  secret: Type.Optional(Type.String({ minLength: 16, description: 'Signing secret (HMAC-SHA256), at least 16 characters; or secret_env.' })),
                  secret_env: Type.Optional(Type.String({ minLength: 1, description: 'Name of the environment variable holding the signing secret.' })),
                  timeout_seconds: Type.Optional(Type.Number({ minimum: 1, maximum: 300, description: 'Longest attempt in seconds. Default 10.' })),
                  max_attempts: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: 'Attempts before a delivery is given up. Default 12.' })),
                },
                { additionalProperties: false },
              ),
              { description: 'Webhooks: signed JSON POSTs of queue events (docs/server.md, "Webhooks").' },
            ),
          ),
        },
        { additionalProperties: false, description: 'Settings of `sisyphus server`.' },
      ),
    ),
    api: Type.Optional(
      Type.Object(
        {
          url: Type.Optional(Type.String({ minLength: 1, description: 'Server URL for submit/queue/jobs/workers/data. Default $SISYPHUS_API, $API_URL, http://localhost:5000.' })),
          token: Type.Optional(Type.String({ minLength: 1, description: 'Bearer token for those commands. Default $SISYPHUS_TOKEN.' })),
        },
        { additionalProperties: false, description: 'Where the operator commands find the server.' },
      ),
    ),
  },
  { additionalProperties: false },
);

/** The configuration as written in the file. */
export type WorkerConfig = Static<typeof WorkerConfigSchema>;
