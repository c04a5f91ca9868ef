import { resolve } from 'node:path';
import { parseJob } from '../job/parse-job.js';
import { renderTemplate } from '../job/render-template.js';
import { parseVarAssignments, readDocument, readVariablesFile } from '../job/load-job-file.js';
import type { Job } from '../job/job-schema.js';

/** CLI options that shape a job: the file and its variables. */
export interface JobInputOptions {
  var?: string[];
  vars?: string;
}

/**
 * Read a job file, fill its placeholders (`--vars` file first, then each
 * `--var`, later ones winning) and check it. Throws a JobError naming the
 * file, the placeholder or the field.
 */
export async function loadJobInput(file: string, options: JobInputOptions): Promise<Job> {
  const doc = await readDocument(resolve(file));
  const vars: Record<string, unknown> = {
    ...(options.vars ? await readVariablesFile(resolve(options.vars)) : {}),
    ...parseVarAssignments(options.var ?? []),
  };
  return parseJob(renderTemplate(doc, vars));
}
