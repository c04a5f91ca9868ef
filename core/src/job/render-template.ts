import { JobError } from '../module/errors.js';
import { ErrorCodes } from '../module/error-codes.js';

/** Variables for `{{ name }}` placeholders. Values are inserted as data. */
export type TemplateVariables = Record<string, unknown>;

const PLACEHOLDER = /\{\{([^{}]*)\}\}/g;
const NAME = /^[A-Za-z_][\w-]*(\.[A-Za-z_][\w-]*)*$/;

function lookup(vars: TemplateVariables, name: string): { found: boolean; value?: unknown } {
  if (Object.hasOwn(vars, name)) return { found: true, value: vars[name] };
  let current: unknown = vars;
  for (const part of name.split('.')) {
    if (typeof current !== 'object' || current === null || !Object.hasOwn(current, part)) return { found: false };
    current = (current as Record<string, unknown>)[part];
  }
  return { found: true, value: current };
}

function childPath(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  if (/^[A-Za-z_$][\w$-]*$/.test(key)) return path ? `${path}.${key}` : key;
  return `${path}[${JSON.stringify(key)}]`;
}

function asText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * Fill `{{ name }}` placeholders in every string of `doc` from `vars`, in a
 * single pass: inserted values are never scanned again, so a value holding
 * `"` or `}}` survives as-is. A string that is exactly one placeholder takes
 * the variable's value with its type (a number stays a number). Every
 * unfilled or malformed placeholder is reported at once, with its location,
 * as a {@link JobError} with code `SIS_TEMPLATE`.
 */
export function renderTemplate<T>(doc: T, vars: TemplateVariables): T {
  const problems: string[] = [];
  // The keys leading to the value being rendered; its path is spelt out only for a problem report.
  const keys: Array<string | number> = [];
  const here = () => keys.reduce<string>((path, key) => childPath(path, key), '');

  const renderString = (text: string): unknown => {
    if (!text.includes('{{')) return text; // most strings of most jobs: nothing to fill
    const whole = /^\{\{([^{}]*)\}\}$/.exec(text);
    if (whole) {
      const name = whole[1]!.trim();
      if (NAME.test(name)) {
        const hit = lookup(vars, name);
        if (hit.found && hit.value !== undefined && hit.value !== null) return structuredClone(hit.value);
      }
    }
    return text.replace(PLACEHOLDER, (match, inner: string) => {
      const name = inner.trim();
      const where = here() || 'the job';
      if (!NAME.test(name)) {
        problems.push(`malformed placeholder ${match} at ${where}`);
        return match;
      }
      const hit = lookup(vars, name);
      if (!hit.found || hit.value === undefined || hit.value === null) {
        problems.push(`unfilled placeholder {{ ${name} }} at ${where}`);
        return match;
      }
      return asText(hit.value);
    });
  };

  const walk = (value: unknown): unknown => {
    if (typeof value === 'string') return renderString(value);
    if (Array.isArray(value)) {
      const out: unknown[] = new Array(value.length);
      for (let i = 0; i < value.length; i++) {
        keys.push(i);
        out[i] = walk(value[i]);
        keys.pop();
      }
      return out;
    }
    if (typeof value === 'object' && value !== null) {
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(value)) {
        keys.push(key);
        const rendered = walk((value as Record<string, unknown>)[key]);
        // A key `__proto__` (JSON.parse makes it an own key) stays a key: assigned, it would set the prototype.
        if (key === '__proto__') Object.defineProperty(out, key, { value: rendered, enumerable: true, writable: true, configurable: true });
        else out[key] = rendered;
        keys.pop();
      }
      return out;
    }
    return value;
  };

  const rendered = walk(doc) as T;
  if (problems.length) {
    throw new JobError(problems.join('; '), { code: ErrorCodes.TEMPLATE, details: { problems } });
  }
  return rendered;
}

/** How many times each placeholder name stands in `text` (e.g. a job file's JSON text), by the same pattern as rendering. */
export function placeholderCounts(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const m of text.matchAll(PLACEHOLDER)) {
    const name = m[1]!.trim();
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return counts;
}

/** Names of all placeholders in `doc`, in order of first appearance. */
export function templateVariables(doc: unknown): string[] {
  const names = new Set<string>();
  const walk = (value: unknown): void => {
    if (typeof value === 'string') for (const m of value.matchAll(PLACEHOLDER)) names.add(m[1]!.trim());
    else if (Array.isArray(value)) value.forEach(walk);
    else if (typeof value === 'object' && value !== null) Object.values(value).forEach(walk);
  };
  walk(doc);
  return [...names];
}
