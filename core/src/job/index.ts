export { TaskSchema, JobInputSchema, JobRequiresSchema, type Task, type Job, type JobInput, type JobRequires } from './job-schema.js';
export { jobRequirements, type JobRequirements, type ModuleLookup } from './job-requirements.js';
export { parseJob } from './parse-job.js';
export { renderTemplate, templateVariables, type TemplateVariables } from './render-template.js';
export { schemaProblems, formatProblems, isValid as isSchemaValid, type SchemaProblem } from './format-errors.js';
