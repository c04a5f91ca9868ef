import type { TSchema } from 'typebox';
// typebox/schema (the JSON Schema checker), not typebox/value: far less code to load at start-up.
import { Check, Compile, Errors } from 'typebox/schema';

/** One schema problem: a readable path (`output_maps[1].stream`) and what is wrong. */
export interface SchemaProblem {
  /** Path in JavaScript notation; empty for the root. */
  path: string;
  /** What is wrong, e.g. `must be an integer`. */
  message: string;
}

/** `/output_maps/1/stream` -> `output_maps[1].stream`, under an optional prefix. */
export function pointerToPath(pointer: string, prefix = ''): string {
  let out = prefix;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (/^\d+$/.test(key)) out += `[${key}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(key)) out += out ? `.${key}` : key;
    else out += `[${JSON.stringify(key)}]`;
  }
  return out;
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

function describe(error: { keyword: string; message: string; params: Record<string, unknown> }): string {
  const p = error.params;
  switch (error.keyword) {
    case 'type':
      return `must be ${article(String(p.type))}`;
    case 'required':
      return 'is required';
    case 'minItems':
      return `must have at least ${p.limit} item${p.limit === 1 ? '' : 's'}`;
    case 'maxItems':
      return `must have at most ${p.limit} item${p.limit === 1 ? '' : 's'}`;
    case 'minLength':
      return p.limit === 1 ? 'must not be empty' : `must be at least ${p.limit} characters`;
    case 'uniqueItems':
      return 'must not contain duplicates';
    case 'enum':
    case 'const':
      return error.message;
    default:
      return error.message;
  }
}

/** The sub-schema a `#/a/b` schema path points at. */
function schemaAt(schema: unknown, schemaPath: string): unknown {
  let node = schema;
  for (const part of schemaPath.replace(/^#\/?/, '').split('/').filter(Boolean)) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return node;
}

interface RawError {
  keyword: string;
  schemaPath: string;
  instancePath: string;
  message: string;
  params: Record<string, unknown>;
}

function describeUnion(union: RawError, branches: RawError[]): string {
  const here = branches.filter((b) => b.instancePath === union.instancePath);
  if (here.length === branches.length && here.length > 0) {
    if (here.every((b) => b.keyword === 'const')) {
      return `must be one of ${here.map((b) => JSON.stringify(b.params.allowedValue)).join(', ')}`;
    }
    if (here.every((b) => b.keyword === 'type')) {
      return `must be ${here.map((b) => article(String(b.params.type))).join(' or ')}`;
    }
  }
  return 'does not match any allowed form';
}

/** A schema checked this often gets a compiled (JIT) validator; one-off checks stay interpreted (compiling costs more). */
const COMPILE_AFTER = 3;
const checkers = new WeakMap<object, { uses: number; check?: (value: unknown) => boolean }>();

/** Is `value` valid for `schema`? Compiled once the schema is in steady use (a worker checks every job). */
export function isValid(schema: TSchema, value: unknown): boolean {
  let entry = checkers.get(schema);
  if (!entry) checkers.set(schema, (entry = { uses: 0 }));
  if (!entry.check && ++entry.uses >= COMPILE_AFTER) {
    const validator = Compile(schema as Parameters<typeof Compile>[0]);
    entry.check = (value) => validator.Check(value);
  }
  return entry.check ? entry.check(value) : Check(schema, value);
}

/**
 * Check `value` against `schema` and list every problem with a readable path
 * under `prefix` (e.g. `tasks[0].data`). An empty list means valid.
 */
export function schemaProblems(schema: TSchema, value: unknown, prefix = ''): SchemaProblem[] {
  if (isValid(schema, value)) return [];
  const problems: SchemaProblem[] = [];
  const seen = new Set<string>();
  const errors = Errors(schema, value)[1] as unknown as RawError[];
  // Branch errors of a union are summed up by the union's own error.
  const unions = errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf');
  const branchOf = (e: RawError) =>
    unions.find((u) => u !== e && e.schemaPath.startsWith(`${u.schemaPath}/${u.keyword}/`));
  for (const e of errors) {
    if (branchOf(e)) continue;
    const path = pointerToPath(e.instancePath, prefix);
    let message: string;
    if (e.keyword === 'boolean') {
      // additionalProperties: false yields one of these per unknown key.
      message = 'is not an allowed field';
    } else if (e.keyword === 'additionalProperties') {
      continue;
    } else if (e.keyword === 'required') {
      const missing = (e.params.requiredProperties ?? e.params.missingProperty) as string[] | string | undefined;
      const names = Array.isArray(missing) ? missing : missing ? [missing] : [];
      for (const name of names) {
        const p = pointerToPath(`/${name}`, path);
        if (!seen.has(`${p} is required`)) {
          seen.add(`${p} is required`);
          problems.push({ path: p, message: 'is required' });
        }
      }
      if (names.length) continue;
      message = 'is missing a required field';
    } else if (e.keyword === 'minProperties') {
      const sub = schemaAt(schema, e.schemaPath) as { properties?: Record<string, unknown> } | undefined;
      const names = Object.keys(sub?.properties ?? {});
      message = names.length ? `must have at least one of ${names.join(', ')}` : `must have at least ${e.params.limit} field(s)`;
    } else if (e.keyword === 'anyOf' || e.keyword === 'oneOf') {
      message = describeUnion(e, errors.filter((b) => branchOf(b) === e));
    } else {
      message = describe(e);
    }
    const key = `${path} ${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push({ path, message });
  }
  return problems;
}

/** `a[1].b must be an integer; c is required` */
export function formatProblems(problems: SchemaProblem[]): string {
  return problems.map((p) => (p.path ? `${p.path} ${p.message}` : p.message)).join('; ');
}
