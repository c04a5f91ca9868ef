import { isAbsolute, normalize } from 'node:path';
import { ConfigError, schemaProblems, type SchemaProblem } from '@sisyphus/core';
import { WatchRuleSchema, type WatchRuleConfig } from '@sisyphus/core/config';
import picomatch from 'picomatch';
import { FILE_VARIABLES } from './file-variables.js';

/** A watch rule with every default filled in (see `WatchRuleSchema` for what each field means). */
export interface WatchRule {
  name: string;
  /** Absolute, normalised, without a trailing separator. */
  folders: string[];
  include: string[];
  exclude: string[];
  recursive: boolean;
  minAgeMs: number;
  stableMs: number;
  /** Absolute path of the job template file. */
  template: string;
  variables: Record<string, unknown>;
  scanIntervalMs: number;
  poll: boolean;
  pollIntervalMs: number;
  maxFailures: number;
  outputsAreWork: boolean;
  /** The rule as written (what the API shows and keeps). */
  config: WatchRuleConfig;
}

/** Defaults of the optional fields. */
export const WATCH_DEFAULTS = {
  include: ['**/*'],
  stable_seconds: 10,
  min_age_seconds: 0,
  scan_interval_seconds: 300,
  poll_interval_seconds: 5,
  max_failures: 3,
} as const;

const VARIABLE_NAME = /^[A-Za-z_][\w-]*$/;

/**
 * Every problem of `value` as a watch rule, each with its path under `at`
 * (`watch[0]` in the config, `''` for an API body): the schema, then what
 * the schema cannot say (absolute paths, patterns that compile, variable
 * names the template can use and the server does not set itself).
 */
export function watchRuleProblems(value: unknown, at = ''): SchemaProblem[] {
  const problems = schemaProblems(WatchRuleSchema, value, at);
  if (problems.length) return problems;
  const rule = value as WatchRuleConfig;
  const field = (name: string) => (at ? `${at}.${name}` : name);
  const seen = new Set<string>();
  rule.folders.forEach((folder, i) => {
    if (!isAbsolute(folder)) problems.push({ path: `${field('folders')}[${i}]`, message: `must be an absolute path (got ${JSON.stringify(folder)})` });
    else {
      const key = trimmed(folder);
      if (seen.has(key)) problems.push({ path: `${field('folders')}[${i}]`, message: `names ${JSON.stringify(folder)} twice` });
      seen.add(key);
    }
  });
  if (!isAbsolute(rule.template)) problems.push({ path: field('template'), message: `must be an absolute path (got ${JSON.stringify(rule.template)})` });
  for (const key of ['include', 'exclude'] as const) {
    (rule[key] ?? []).forEach((pattern, i) => {
      try {
        picomatch.makeRe(pattern, { strictBrackets: true });
      } catch (error) {
        problems.push({ path: `${field(key)}[${i}]`, message: `is not a valid glob pattern: ${(error as Error).message}` });
      }
    });
  }
  for (const name of Object.keys(rule.variables ?? {})) {
    const path = `${field('variables')}.${name}`;
    if (!VARIABLE_NAME.test(name)) problems.push({ path, message: 'is not a placeholder name (a letter or _, then letters, digits, _ or -)' });
    else if ((FILE_VARIABLES as readonly string[]).includes(name)) problems.push({ path, message: `is set by the server from the file (${FILE_VARIABLES.join(', ')}); choose another name` });
  }
  return problems;
}

/** `folder` normalised, without a trailing separator (the root stays `/`). */
function trimmed(folder: string): string {
  const n = normalize(folder);
  return n.length > 1 ? n.replace(/[\\/]+$/, '') : n;
}

/** A rule that {@link watchRuleProblems} found nothing wrong with, with its defaults. */
export function resolveWatchRule(config: WatchRuleConfig): WatchRule {
  return {
    name: config.name,
    folders: config.folders.map(trimmed),
    include: config.include ?? [...WATCH_DEFAULTS.include],
    exclude: config.exclude ?? [],
    recursive: config.recursive ?? true,
    minAgeMs: (config.min_age_seconds ?? WATCH_DEFAULTS.min_age_seconds) * 1000,
    stableMs: (config.stable_seconds ?? WATCH_DEFAULTS.stable_seconds) * 1000,
    template: normalize(config.template),
    variables: config.variables ?? {},
    scanIntervalMs: (config.scan_interval_seconds ?? WATCH_DEFAULTS.scan_interval_seconds) * 1000,
    poll: config.poll ?? false,
    pollIntervalMs: (config.poll_interval_seconds ?? WATCH_DEFAULTS.poll_interval_seconds) * 1000,
    maxFailures: config.max_failures ?? WATCH_DEFAULTS.max_failures,
    outputsAreWork: config.outputs_are_work ?? false,
    config,
  };
}

/**
 * The `watch` setting of the server, checked: a list of rules with unique
 * names. The first problem is a one-line {@link ConfigError} naming its
 * field (`watch[1].folders[0] must be an absolute path ...`).
 */
export function checkedWatchRules(value: unknown): WatchRule[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new ConfigError('watch must be a list of rules {name, folders, template, ...}');
  const names = new Map<string, number>();
  return value.map((entry: unknown, i) => {
    const [problem] = watchRuleProblems(entry, `watch[${i}]`);
    if (problem) throw new ConfigError(`${problem.path} ${problem.message}`);
    const config = entry as WatchRuleConfig;
    const first = names.get(config.name);
    if (first !== undefined) throw new ConfigError(`watch[${i}].name ${JSON.stringify(config.name)} is also the name of watch[${first}]; each rule needs its own name`);
    names.set(config.name, i);
    return resolveWatchRule(config);
  });
}
