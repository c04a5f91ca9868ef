import type { Static } from 'typebox';
import { Type } from 'typebox';

/** One task: the module to load and the data handed to it unchanged. */
export const TaskSchema = Type.Object(
  {
    module: Type.String({ minLength: 1, description: 'Name of the task module to run' }),
    data: Type.Record(Type.String(), Type.Unknown(), { description: 'Handed to the module unchanged' }),
  },
  { additionalProperties: false },
);

/** A capability name in `requires`: a letter or digit, then letters, digits, `.`, `_`, `+`, `-` (`hevc_nvenc`, `HandBrakeCLI`). */
const CapabilityName = (what: string) => Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._+-]*$', maxLength: 200, description: what });
const names = (what: string) => Type.Optional(Type.Array(CapabilityName(what), { maxItems: 100 }));

/**
 * What a job requires of the worker that runs it, on top of what its tasks
 * use (capability routing): the server hands the job only to a worker that
 * advertises all of it. A job with a non-empty `requires` never goes to a
 * worker that advertises no capabilities (the original worker).
 */
export const JobRequiresSchema = Type.Object(
  {
    modules: names('A module the worker must have loaded'),
    binaries: names('A program the worker must have found, e.g. ffmpeg, HandBrakeCLI, mkvmerge'),
    encoders: names("An encoder the worker's ffmpeg must offer (and have a device for), e.g. hevc_nvenc"),
    hwaccels: names('A hardware acceleration method the worker must offer, e.g. cuda, vaapi, qsv'),
    gpus: names('A GPU vendor the worker must have a device of: nvidia, intel, amd'),
    tags: Type.Optional(
      Type.Array(Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$', maxLength: 200, description: 'A tag of the worker (worker.tags), compared in lower case' }), { maxItems: 100 }),
    ),
  },
  {
    additionalProperties: false,
    description: 'Capabilities the worker must have, e.g. {"encoders": ["hevc_nvenc"], "tags": ["gpu"]}; what the tasks use (their modules, binaries, encoders) is required too.',
  },
);

/**
 * A job as submitted: a title (`job_title`, or the seed's `job_name`), an
 * optional id and priority, and at least one task. A `$schema` key (for
 * editors) is allowed and dropped by `parseJob`.
 */
export const JobInputSchema = Type.Object(
  {
    // Editors read a file's schema from here ("$schema": ".../job.schema.json"); Sisyphus ignores it.
    $schema: Type.Optional(Type.String()),
    job_title: Type.Optional(Type.String({ minLength: 1 })),
    job_name: Type.Optional(Type.String({ minLength: 1 })),
    job_id: Type.Optional(Type.String({ minLength: 1 })),
    priority: Type.Optional(Type.Integer()),
    added: Type.Optional(Type.String()),
    requires: Type.Optional(JobRequiresSchema),
    tasks: Type.Array(TaskSchema, { minItems: 1 }),
  },
  { additionalProperties: false },
);

/** A task of a job. */
export type Task = Static<typeof TaskSchema>;
/** A job document before normalisation (may use `job_name`). */
export type JobInput = Static<typeof JobInputSchema>;
/** A job's `requires`: see {@link JobRequiresSchema}. */
export type JobRequires = Static<typeof JobRequiresSchema>;

/** A validated, normalised job: `job_title` always set, `job_name` folded into it. */
export interface Job {
  job_title: string;
  job_id?: string;
  priority?: number;
  added?: string;
  /** What the worker that runs it must have (capability routing). */
  requires?: JobRequires;
  tasks: Task[];
}
