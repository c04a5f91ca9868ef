import { CAPABILITY_KINDS, type RequiresContext } from '../module/module-hooks.js';
import type { TaskModule } from '../module/task-module.js';

/**
 * What a job needs of the worker that runs it, in the flat form routing
 * compares (`kind:value`, as a worker's `capabilityList`). The server keeps
 * it with the job (its store's `JobRequirements` has this shape).
 */
export interface JobRequirements {
  /** Everything required, sorted, without repeats. */
  all: string[];
  /** The document has a non-empty `requires` of its own (a worker advertising no capabilities never gets it). */
  explicit: boolean;
}

/** Where {@link jobRequirements} finds a task's module (an engine's or server's `ModuleRegistry` fits). */
export interface ModuleLookup {
  get(name: string): { module: Pick<TaskModule, 'name' | 'requires'> } | undefined;
}

/** The `requires` fields and the capability kind of each. */
const REQUIRES_KINDS = { modules: 'module', binaries: 'binary', encoders: 'encoder', hwaccels: 'hwaccel', gpus: 'gpu', tags: 'tag' } as const;
const CAPABILITY = new RegExp(`^(${CAPABILITY_KINDS.join('|')}):(.+)$`);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
/** Tags are compared in lower case; other names as they are. */
const normalise = (kind: string, value: string) => `${kind}:${kind === 'tag' ? value.toLowerCase() : value}`;

/**
 * What `job` (a job document, already checked by the job schema) requires
 * of its worker: its top-level `requires` (`{modules, binaries, encoders,
 * hwaccels, gpus, tags}` -> `module:X`, `binary:X`, ...), plus for every
 * task `module:NAME` and what the module's `requires(data, {getData})` hook
 * returns (the ffmpeg module: `binary:ffmpeg`, the encoders and hardware
 * acceleration its options name, option sets resolved through `getData`).
 * A task whose module is not in `modules` requires just `module:NAME`.
 * `explicit` is true when `requires` names anything. `undefined` when
 * nothing is required (a document without tasks).
 *
 * Rejects with what a hook or `getData` throws (a data store that cannot
 * be reached), and with a TypeError naming the module when its hook returns
 * something that is not a list of `kind:value` strings.
 *
 * @example
 * const requires = await jobRequirements(doc, registry, (module, name) => store.getData(module, name));
 * // { all: ['binary:ffmpeg', 'binary:ffprobe', 'encoder:hevc_nvenc', 'module:ffmpeg', 'tag:gpu'], explicit: true }
 */
export async function jobRequirements(job: unknown, modules: ModuleLookup | undefined, getData: RequiresContext['getData']): Promise<JobRequirements | undefined> {
  if (!isObject(job)) return undefined;
  const all = new Set<string>();
  let explicit = false;
  if (isObject(job.requires)) {
    for (const [field, kind] of Object.entries(REQUIRES_KINDS)) {
      const values = job.requires[field];
      if (!Array.isArray(values)) continue;
      for (const value of values) {
        if (typeof value !== 'string' || value === '') continue;
        all.add(normalise(kind, value));
        explicit = true;
      }
    }
  }
  // One job's tasks often share option sets: each record is read once.
  const read = new Map<string, Promise<Record<string, unknown> | undefined>>();
  const context: RequiresContext = {
    getData: (module, name) => {
      const key = JSON.stringify([module, name]);
      let record = read.get(key);
      if (!record) read.set(key, (record = getData(module, name)));
      return record.then((r) => (r === undefined ? undefined : structuredClone(r)));
    },
  };
  const tasks = Array.isArray(job.tasks) ? job.tasks : [];
  for (const task of tasks) {
    if (!isObject(task) || typeof task.module !== 'string' || task.module === '') continue;
    all.add(`module:${task.module}`);
    const module = modules?.get(task.module)?.module;
    if (typeof module?.requires !== 'function') continue;
    const needs: unknown = await module.requires(task.data as never, context);
    if (!Array.isArray(needs)) throw new TypeError(`module ${task.module}: requires() must return a list of kind:value strings`);
    for (const need of needs) {
      const m = typeof need === 'string' ? CAPABILITY.exec(need) : null;
      if (!m) throw new TypeError(`module ${task.module}: requires() returned ${JSON.stringify(need)}, not kind:value with kind one of ${CAPABILITY_KINDS.join(', ')}`);
      all.add(normalise(m[1]!, m[2]!));
    }
  }
  return all.size ? { all: [...all].sort(), explicit } : undefined;
}
