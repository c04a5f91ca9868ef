export { TaskSchema, JobInputSchema, type Task, type Job, type JobInput } from './job-schema.js';
export { parseJob } from './parse-job.js';
export { renderTemplate, templateVariables, type TemplateVariables } from './render-template.js';
export { schemaProblems, formatProblems, isValid as isSchemaValid, type SchemaProblem } from './format-errors.js';
