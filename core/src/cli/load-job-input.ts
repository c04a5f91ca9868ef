import { resolve } from 'node:path';
import { parseJob } from '../job/parse-job.js';
import { renderTemplate } from '../job/render-template.js';
import { parseVarAssignments, readDocument, readVariablesFile } from '../job/load-job-file.js';

/** CLI options that shape a job: the file and its variables. */
export interface JobInputOptions {
  var?: string[];
  vars?: string;
}

/** A job file as read, with the variables to render it with. */
export interface JobInput {
  doc: unknown;
  variables: Record<string, unknown>;
}

/**
 * Read a job file and its variables (`--vars` file first, then each `--var`,
 * later ones winning) and check that it renders into a valid job, so bad
 * input fails before anything starts. The engine renders `doc` itself, in
 * one pass, so inserted values are never scanned twice.
 */
export async function loadJobInput(file: string, options: JobInputOptions): Promise<JobInput> {
  const doc = await readDocument(resolve(file));
  const variables: Record<string, unknown> = {
    ...(options.vars ? await readVariablesFile(resolve(options.vars)) : {}),
    ...parseVarAssignments(options.var ?? []),
  };
  parseJob(renderTemplate(doc, variables));
  return { doc, variables };
}
