import { readFileSync } from 'node:fs';
import type { ChainableCommander, Redis } from 'ioredis';

/*
 * The job record's multi-key changes, each one atomic Lua script in
 * `plugins/redis/lua/` (key layout in store-keys.ts, record fields in
 * job-record.ts). BullMQ moves the job itself after a script has decided.
 * The scripts are ioredis commands (`defineCommand`): EVALSHA, EVAL when a
 * server does not know the script (a new connection, a restart, SCRIPT FLUSH).
 */

/** Where the `.lua` files are: beside `src/` and `dist/` alike, so no copy step. */
const LUA_DIR = new URL('../lua/', import.meta.url);

/** A line `--!include PATH` (PATH relative to the lua folder) stands for that file, the first time it comes up in a script. */
const INCLUDE = /^--!include[ \t]+(\S+)[ \t]*$/;

/**
 * The source of Lua file `file` (relative to `dir`), with its `--!include`
 * lines replaced by the files they name, recursively. A file is included
 * once per script: a later include of it (say, two fragments that both use
 * the holder check) becomes a comment, since its local functions exist already.
 */
export function loadLua(file: string, dir: URL = LUA_DIR): string {
  const included = new Set<string>([file]);
  const expand = (path: string, from: string | undefined): string => {
    let text: string;
    try {
      text = readFileSync(new URL(path, dir), 'utf8');
    } catch (error) {
      throw new Error(`cannot read Lua file ${path}${from === undefined ? '' : ` (included by ${from})`}`, { cause: error });
    }
    return text
      .split('\n')
      .map((line) => {
        const name = INCLUDE.exec(line)?.[1];
        if (name === undefined) return line;
        if (included.has(name)) return `-- (${name}: included above)`;
        included.add(name);
        return expand(name, path).replace(/\n$/, '');
      })
      .join('\n');
  };
  return expand(file, undefined);
}

/** Each script (`lua/NAME.lua`) and how many of its arguments are keys. */
export const SCRIPT_KEYS = {
  submit: 5,
  enqueued: 3,
  lease: 10,
  renew: 9,
  finish: 10,
  'finish-lease': 15,
  release: 6,
  expire: 13,
  cancel: 6,
  remove: 8,
  purge: 8,
  'list-scan': 1,
  'queue-scan': 1,
  'index-backfill': 2,
  'ready-backfill': 2,
  'set-priority': 3,
  retry: 6,
  'events-append': 2,
  'wait-children': 7,
} as const;

/** Name of one of our scripts (its file name without `.lua`). */
export type ScriptName = keyof typeof SCRIPT_KEYS;

/** The ioredis command that runs script `name` (apart from BullMQ's `NAME:VERSION` commands on the same connection). */
export const commandOf = (name: ScriptName): string => `sisyphus:${name}`;

type ScriptCommand = (...keysAndArgs: Array<string | number>) => Promise<unknown>;

let sources: Map<ScriptName, string> | undefined;

/** Make every script a command of `redis` (read from disk once per process). */
export function defineScripts(redis: Redis): void {
  sources ??= new Map(Object.keys(SCRIPT_KEYS).map((name) => [name as ScriptName, loadLua(`${name}.lua`)]));
  for (const [name, lua] of sources) redis.defineCommand(commandOf(name), { numberOfKeys: SCRIPT_KEYS[name], lua });
}

/**
 * Run script `name` on `redis` (which {@link defineScripts} prepared). The
 * command is sent before this returns, so a caller can put it in the same
 * write as the command before it (see bullmq-internals.ts). It is looked up
 * on `redis` at each call: a test can wrap it there.
 */
export function runScript(redis: Redis, name: ScriptName, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
  if (keys.length !== SCRIPT_KEYS[name]) throw new Error(`script ${name} takes ${SCRIPT_KEYS[name]} keys, not ${keys.length}`);
  return (redis as unknown as Record<string, ScriptCommand>)[commandOf(name)]!(...keys, ...args);
}

/** {@link runScript}, queued on a pipeline (or transaction) of a connection that {@link defineScripts} prepared. */
export function pipeScript(pipeline: ChainableCommander, name: ScriptName, keys: readonly string[], args: readonly (string | number)[]): void {
  if (keys.length !== SCRIPT_KEYS[name]) throw new Error(`script ${name} takes ${SCRIPT_KEYS[name]} keys, not ${keys.length}`);
  (pipeline as unknown as Record<string, ScriptCommand>)[commandOf(name)]!(...keys, ...args);
}
