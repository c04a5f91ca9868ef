/**
 * Every stable error code Sisyphus produces. Each one is documented in
 * `docs/errors.md`; a test keeps the two lists in step.
 */
export const ErrorCodes = {
  /** A module's `init` failed (missing binary, unreadable settings...). */
  INIT: 'SIS_INIT',
  /** A module's data failed its schema or the module's own checks. */
  VALIDATION: 'SIS_VALIDATION',
  /** A module's `run` failed. */
  RUN: 'SIS_RUN',
  /** A module's `cleanup` failed. */
  CLEANUP: 'SIS_CLEANUP',
  /** The job was cancelled through its AbortSignal (Ctrl-C, server cancel). */
  CANCELLED: 'SIS_CANCELLED',
  /** A task ran longer than its configured timeout. */
  TIMEOUT: 'SIS_TIMEOUT',
  /** The job document does not match the job schema. */
  JOB_INVALID: 'SIS_JOB_INVALID',
  /** A `{{ name }}` placeholder has no value, or is malformed. */
  TEMPLATE: 'SIS_TEMPLATE',
  /** A job or variables file cannot be read or parsed. */
  JOB_FILE: 'SIS_JOB_FILE',
  /** A task names a module that no loaded plugin provides. */
  MODULE_NOT_FOUND: 'SIS_MODULE_NOT_FOUND',
  /** A path in task data lies outside the configured allowed roots. */
  PATH_NOT_ALLOWED: 'SIS_PATH_NOT_ALLOWED',
  /** A child process failed: non-zero exit, death by signal, or not startable. */
  PROCESS_FAILED: 'SIS_PROCESS_FAILED',
  /** The worker configuration file is invalid or cannot be loaded. */
  CONFIG_INVALID: 'SIS_CONFIG_INVALID',
  /** A module's settings do not match the module's settings schema. */
  SETTINGS_INVALID: 'SIS_SETTINGS_INVALID',
  /** A plugin named in the configuration cannot be found. */
  PLUGIN_NOT_FOUND: 'SIS_PLUGIN_NOT_FOUND',
  /** A package named as a plugin does not default-export `definePlugin(...)`. */
  NOT_A_PLUGIN: 'SIS_NOT_A_PLUGIN',
  /** Two plugins provide a module with the same name. */
  DUPLICATE_MODULE: 'SIS_DUPLICATE_MODULE',
  /** A plugin was built for another major version of @sisyphus/core. */
  PLUGIN_INCOMPATIBLE: 'SIS_PLUGIN_INCOMPATIBLE',
  /** Server-side data (e.g. an option set) does not exist. */
  DATA_NOT_FOUND: 'SIS_DATA_NOT_FOUND',
  /** Another attempt holds the claim on an output file, or this attempt lost its claim before promoting (nothing was promoted). */
  OUTPUT_CLAIMED: 'SIS_OUTPUT_CLAIMED',
  /** An output failed its check before promotion (missing, empty, truncated, unreadable): it was not promoted. */
  OUTPUT_UNVERIFIED: 'SIS_OUTPUT_UNVERIFIED',
  /** The queue store: a job with this id exists already (HTTP 409). */
  JOB_EXISTS: 'SIS_JOB_EXISTS',
  /** The queue store: no job with this id (HTTP 404). */
  JOB_NOT_FOUND: 'SIS_JOB_NOT_FOUND',
  /** The queue store: the reporting worker no longer holds the job's lease (HTTP 409). */
  LEASE_LOST: 'SIS_LEASE_LOST',
  /** The queue store: the job is not in a state that allows the change (HTTP 409). */
  JOB_STATE: 'SIS_JOB_STATE',
  /** The queue store: a list cursor that this listing did not make (HTTP 400). */
  BAD_CURSOR: 'SIS_BAD_CURSOR',
  /** The queue store cannot serve requests right now (Redis reconnecting; HTTP 503). */
  STORE_UNAVAILABLE: 'SIS_STORE_UNAVAILABLE',
  /** Bad command-line usage. */
  USAGE: 'SIS_USAGE',
  /** An operator command cannot reach the job server (refused, no such host, timed out, or a gateway/503 answer): exit 3. */
  SERVER_UNREACHABLE: 'SIS_SERVER_UNREACHABLE',
} as const;

/** One of the stable error code strings in {@link ErrorCodes}. */
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];
