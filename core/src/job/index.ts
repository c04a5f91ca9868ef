export { TaskSchema, JobInputSchema, type Task, type Job, type JobInput } from './job-schema.js';
export { parseJob } from './parse-job.js';
export { renderTemplate, templateVariables, type TemplateVariables } from './render-template.js';
export { readDocument, readVariablesFile, parseVarAssignments, MAX_JOB_FILE_BYTES } from './load-job-file.js';
export { schemaProblems, formatProblems, pointerToPath, isValid as isSchemaValid, type SchemaProblem } from './format-errors.js';
export { QUEUE_ID_MAX_LENGTH, QUEUE_ID_PATTERN, QUEUE_ID_RULE, queueIdProblem } from './queue-id.js';
export { buildJobFileSchema, moduleDefinitionKey, type JobFileSchemaOptions, type SchemaModule } from './job-file-schema.js';
export { portableSchema, JSON_SCHEMA_DRAFT, type JsonSchema } from './portable-schema.js';
