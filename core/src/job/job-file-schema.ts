import type { TaskModule } from '../module/task-module.js';
import { JobInputSchema, TaskSchema } from './job-schema.js';
import { QUEUE_ID_PATTERN } from './queue-id.js';
import { JSON_SCHEMA_DRAFT, escapePointer, portableSchema, type JsonSchema } from './portable-schema.js';

/** What the job-file schema needs of a module: its name, description and data schema. */
export type SchemaModule = Pick<TaskModule, 'name' | 'description' | 'schema'>;

/** Options of {@link buildJobFileSchema}. */
export interface JobFileSchemaOptions {
  /**
   * Accept tasks naming a module not in the list (their data is not checked).
   * Default false: such a task is an error at `tasks[i].module`, as it is for
   * a worker that lacks the module and for a server without `acceptUnknownModules`.
   */
  allowUnknownModules?: boolean;
}

/** Where the data schema of module `name` lives in the job-file schema (`#/definitions/<key>`). */
export function moduleDefinitionKey(name: string): string {
  return `module:${name}`;
}

/** A string that is exactly one `{{ name }}` placeholder: any JSON value once rendered. */
const PLACEHOLDER: JsonSchema = {
  type: 'string',
  pattern: '^\\{\\{[^{}]*\\}\\}$',
  description: 'A {{ placeholder }}: filled from the variables (--var/--vars) before the job is checked; a whole-string placeholder takes the variable\'s type.',
};
/** A string holding at least one placeholder: a string once rendered. */
const TEMPLATED: JsonSchema = {
  type: 'string',
  pattern: '\\{\\{[^{}]*\\}\\}',
  description: 'Text with {{ placeholders }}: filled from the variables (--var/--vars) before the job is checked.',
};

const ANNOTATIONS = ['title', 'description', 'default', 'examples', 'deprecated', 'readOnly', 'writeOnly', '$comment'];
/** Keywords that never limit which strings a node takes (besides `minLength`, checked apart). */
const OTHER_TYPES_KEYWORDS = new Set([
  'minLength', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf',
  'items', 'additionalItems', 'minItems', 'maxItems', 'uniqueItems',
  'properties', 'required', 'additionalProperties', 'patternProperties', 'minProperties', 'maxProperties',
]);

type Node = Record<string, unknown>;
const isNode = (v: unknown): v is Node => typeof v === 'object' && v !== null && !Array.isArray(v);

function typesOf(node: Node): string[] | undefined {
  if (typeof node.type === 'string') return [node.type];
  if (Array.isArray(node.type)) return node.type.map(String);
  return undefined;
}

/** Does `node` take every string (so a templated string needs no extra branch)? */
function takesAnyString(node: JsonSchema, defs: Record<string, JsonSchema>, seen = new Set<string>()): boolean {
  if (node === true) return true;
  if (!isNode(node)) return false;
  const keys = Object.keys(node).filter((k) => !ANNOTATIONS.includes(k));
  if (keys.length === 0) return true;
  if (typeof node.$ref === 'string' && keys.length === 1) {
    const target = refTarget(node.$ref, defs, seen);
    return target !== undefined && takesAnyString(target, defs, seen);
  }
  const unions = (['anyOf', 'oneOf'] as const).filter((k) => Array.isArray(node[k]));
  if (unions.length === 1 && keys.length === 1) return (node[unions[0]!] as JsonSchema[]).some((b) => takesAnyString(b, defs, seen));
  const types = typesOf(node);
  if (!types?.includes('string')) return false;
  // Keywords for other types do not limit strings; anything else (pattern, enum, a union, ...) may.
  if (keys.some((k) => k !== 'type' && !OTHER_TYPES_KEYWORDS.has(k))) return false;
  // "{{a}}" is the shortest placeholder.
  return typeof node.minLength !== 'number' || node.minLength <= 5;
}

/** Could `node` take some string (so text with placeholders may stand for its value)? */
function takesSomeString(node: JsonSchema, defs: Record<string, JsonSchema>, seen = new Set<string>()): boolean {
  if (typeof node === 'boolean') return node;
  if (typeof node.$ref === 'string') {
    const target = refTarget(node.$ref, defs, seen);
    return target === undefined || takesSomeString(target, defs, seen);
  }
  const types = typesOf(node);
  if (types) return types.includes('string');
  if ('const' in node) return typeof node.const === 'string';
  if (Array.isArray(node.enum)) return node.enum.some((v) => typeof v === 'string');
  for (const k of ['anyOf', 'oneOf'] as const) {
    if (Array.isArray(node[k])) return (node[k] as JsonSchema[]).some((b) => takesSomeString(b, defs, seen));
  }
  return true;
}

function refTarget(ref: string, defs: Record<string, JsonSchema>, seen: Set<string>): JsonSchema | undefined {
  const prefix = '#/definitions/';
  if (!ref.startsWith(prefix) || seen.has(ref)) return undefined;
  seen.add(ref);
  return defs[ref.slice(prefix.length).replace(/~1/g, '/').replace(/~0/g, '~')];
}

/**
 * A value position of a job file may hold a placeholder instead of the value:
 * text with placeholders where a string is possible, and a whole-string
 * placeholder anywhere else (a number field may hold `"{{ n }}"`).
 */
function templatable(node: JsonSchema, defs: Record<string, JsonSchema>): JsonSchema {
  if (typeof node === 'boolean' || takesAnyString(node, defs)) return node;
  const ref = takesSomeString(node, defs) ? '#/definitions/templated' : '#/definitions/placeholder';
  const wrapper: Node = {};
  const inner: Node = { ...node };
  for (const k of ANNOTATIONS) {
    if (k in inner) {
      wrapper[k] = inner[k];
      delete inner[k];
    }
  }
  wrapper.anyOf = [Object.keys(inner).length ? inner : true, { $ref: ref }];
  return wrapper;
}

/**
 * Let every value under `node` be a placeholder: wrap each schema in a value
 * position (properties, items, map values) with {@link templatable}; descend
 * into unions and then/else. Conditions (`if`, `not`, `contains`,
 * `propertyNames`) are left as written: keys are never templated.
 */
function allowPlaceholders(node: JsonSchema, defs: Record<string, JsonSchema>, done = new WeakSet<Node>()): JsonSchema {
  // A definition may also sit inline (a `#/properties/x` ref): each node is done once.
  if (!isNode(node) || done.has(node)) return node;
  done.add(node);
  const value = (child: unknown) =>
    isNode(child) || typeof child === 'boolean' ? templatable(allowPlaceholders(child, defs, done), defs) : child;
  for (const map of ['properties', 'patternProperties']) {
    const children = node[map];
    if (isNode(children)) for (const k of Object.keys(children)) children[k] = value(children[k]);
  }
  if (isNode(node.additionalProperties)) node.additionalProperties = value(node.additionalProperties);
  if (Array.isArray(node.items)) node.items = node.items.map(value);
  else if (node.items !== undefined) node.items = value(node.items);
  if (isNode(node.additionalItems)) node.additionalItems = value(node.additionalItems);
  for (const list of ['anyOf', 'oneOf', 'allOf']) {
    if (Array.isArray(node[list])) node[list] = (node[list] as JsonSchema[]).map((b) => allowPlaceholders(b, defs, done));
  }
  for (const branch of ['then', 'else']) if (node[branch] !== undefined) node[branch] = allowPlaceholders(node[branch] as JsonSchema, defs, done);
  return node;
}

/**
 * The JSON Schema (draft-07) of a job file as written, for editors
 * (`# yaml-language-server: $schema=...`, `"$schema"`) and for checking
 * files with any JSON Schema validator. Each task's `data` is checked against
 * the schema of the module its `module` names (`if module = X then data
 * matches X`); module names outside `modules` are refused unless
 * `allowUnknownModules`.
 *
 * Job files are templates: any value may be a whole-string `{{ placeholder }}`
 * (it takes the variable's type when rendered), and wherever a string may
 * stand, text containing placeholders is accepted without checking its
 * pattern, enum or format. Object keys are never templated, so a misspelled
 * key is always an error. What the schema cannot say is checked only by
 * `sisyphus validate`: `job_title` and `job_name` being equal when both are
 * given, and each module's own `validate` (files, option sets).
 */
export function buildJobFileSchema(modules: Iterable<SchemaModule>, options: JobFileSchemaOptions = {}): JsonSchema {
  const list = [...modules].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const names = list.map((m) => m.name);
  const defs: Record<string, JsonSchema> = { placeholder: PLACEHOLDER, templated: TEMPLATED };

  for (const module of list) {
    const key = moduleDefinitionKey(module.name);
    const data = portableSchema(module.schema, key, defs);
    const piece: JsonSchema = isNode(data) ? { ...data } : data;
    if (isNode(piece) && module.description && piece.description === undefined) piece.description = module.description;
    defs[key] = piece;
  }

  const job = portableSchema(JobInputSchema, 'job', defs) as Node;
  const task = portableSchema(TaskSchema, 'task', defs) as Node;
  const props = job.properties as Record<string, Node>;
  props.$schema = { ...props.$schema, description: 'The JSON Schema of this file, for editors; Sisyphus ignores it.' };
  props.job_title = { ...props.job_title, description: "The job's title (job_name is accepted instead; one of the two is required)." };
  props.job_name = { ...props.job_name, description: 'Alias of job_title (the original Sisyphus uses both); equal to it when both are given.' };
  props.job_id = { ...props.job_id, pattern: QUEUE_ID_PATTERN, description: "The job's id; default: a new UUID." };
  props.priority = { ...props.priority, description: 'Higher runs first (default 0).' };
  props.added = { ...props.added, description: 'The submission time, set by a server.' };
  props.tasks = { ...props.tasks, items: { $ref: '#/definitions/task' }, description: 'The tasks, run in order.' };
  // Each branch names its property too, so that Ajv's strict mode (strictRequired) accepts the schema.
  job.anyOf = [{ properties: { job_title: true }, required: ['job_title'] }, { properties: { job_name: true }, required: ['job_name'] }];

  const taskProps = task.properties as Record<string, Node>;
  const known: Node = names.length ? { type: 'string', enum: names } : { not: true };
  taskProps.module = {
    description: `The task module to run (${names.length ? `known here: ${names.join(', ')}` : 'none known here'}).`,
    ...(options.allowUnknownModules ? { anyOf: [known, { type: 'string', minLength: 1 }] } : known),
  };
  taskProps.data = { ...taskProps.data, description: "The module's data; see `sisyphus modules NAME`." };
  delete (taskProps.data as Node).patternProperties; // Type.Record's "any key": the same as no rule
  if (names.length) {
    task.allOf = names.map((name) => ({
      if: { type: 'object', properties: { module: { const: name } }, required: ['module'] },
      then: { properties: { data: { $ref: `#/definitions/${escapePointer(moduleDefinitionKey(name))}` } } },
    }));
  }
  defs.task = task;

  const done = new WeakSet<Node>();
  for (const key of Object.keys(defs)) if (key !== 'placeholder' && key !== 'templated') defs[key] = allowPlaceholders(defs[key]!, defs, done);
  allowPlaceholders(job, defs, done);

  return {
    $schema: JSON_SCHEMA_DRAFT,
    title: 'Sisyphus job file',
    description: `A Sisyphus job (JSON or YAML) with {{ placeholders }}; task data checked for the modules ${names.join(', ') || '(none)'}. Made by \`sisyphus schema job\`.`,
    ...job,
    definitions: defs,
  };
}
