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
    tasks: Type.Array(TaskSchema, { minItems: 1 }),
  },
  { additionalProperties: false },
);

/** A task of a job. */
export type Task = Static<typeof TaskSchema>;
/** A job document before normalisation (may use `job_name`). */
export type JobInput = Static<typeof JobInputSchema>;

/** A validated, normalised job: `job_title` always set, `job_name` folded into it. */
export interface Job {
  job_title: string;
  job_id?: string;
  priority?: number;
  added?: string;
  tasks: Task[];
}
