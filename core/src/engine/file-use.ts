import { ValidationError } from '../module/errors.js';
import { basename, dirname, join } from 'node:path';
import { fileIdentity, sameIdentity, type FileIdentity } from '../files/file-identity.js';
import { realpathLoose } from '../paths/path-guard.js';

/** The files one task declared after its `validate`: what `run` reads, writes and removes. */
export interface TaskFileUse {
  index: number;
  module: string;
  inputs: readonly string[];
  outputs: readonly string[];
  removes: readonly string[];
}

/**
 * The job's rules for files, checked once every task has validated (so
 * they hold for third-party modules too), comparing real identities
 * (realpath, and device + inode where a file exists), never strings:
 * 1. no task writes onto a file it reads itself (an encode in place
 *    destroys its source, whichever path spells it);
 * 2. no task removes (deletes, moves away, or replaces) a file that a later
 *    task still reads, unless a task in between writes it anew.
 * Throws a ValidationError tagged with the offending task.
 */
export async function checkFileUse(tasks: readonly TaskFileUse[]): Promise<void> {
  if (!tasks.some((t) => t.inputs.length && (t.outputs.length || t.removes.length) || t.removes.length)) return;
  const cache = new Map<string, Promise<FileIdentity>>();
  const id = (path: string) => {
    let known = cache.get(path);
    if (!known) cache.set(path, (known = fileIdentity(path)));
    return known;
  };
  const includes = async (list: readonly string[], path: string) => {
    const target = await id(path);
    for (const other of list) if (sameIdentity(target, await id(other))) return other;
    return undefined;
  };
  const fail = (task: TaskFileUse, message: string) => {
    throw new ValidationError(message, { module: task.module, taskIndex: task.index, details: { rule: 'file-use' } });
  };

  for (const task of tasks) {
    for (const output of task.outputs) {
      const input = await includes(task.inputs, output);
      if (input) fail(task, `writes ${output}, which is the same file as its input ${input}; a source is never written in place`);
    }
  }
  // What a removal takes away is the directory entry, not the file: deleting a symlink or one of
  // several hard links leaves the file readable under its other names. A later read breaks when it
  // goes through that entry: the same entry, or a path that resolves to it.
  const entry = async (path: string) => join(await realpathLoose(dirname(path)), basename(path));
  for (const task of tasks) {
    for (const removed of task.removes) {
      const gone = await entry(removed);
      for (const later of tasks.filter((t) => t.index > task.index)) {
        const between = tasks.filter((t) => t.index > task.index && t.index < later.index);
        let recreated = false;
        for (const t of between) if (await includes(t.outputs, removed)) recreated = true;
        if (recreated) break;
        for (const read of later.inputs) {
          // The entry itself, or a folder above what the later task reads (a folder moved away).
          const through = (p: string) => p === gone || p.startsWith(`${gone}/`);
          if (through(await entry(read)) || through(await realpathLoose(read))) {
            fail(task, `removes ${removed}, which task ${later.index + 1} (${later.module}) reads later (${read})`);
          }
        }
      }
    }
  }
}
