import { afterEach, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, utimes, writeFile, chmod } from 'node:fs/promises';
import { existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCodes, createEngine } from '@sisyphus/core';
import { planTask, runTask } from '@sisyphus/core/testing';
import cleanupPlugin, { cleanupModule, moveEntry } from '@sisyphus/module-cleanup';

const dirs: string[] = [];
async function temp(base = tmpdir()): Promise<string> {
  const d = await mkdtemp(join(base, 'sis-cleanup-'));
  dirs.push(d);
  return d;
}
afterEach(async () => {
  while (dirs.length) await rm(dirs.pop()!, { recursive: true, force: true });
});

const OLD = new Date('2020-01-02T03:04:05Z');

async function file(path: string, body = 'payload', mode = 0o640): Promise<string> {
  await writeFile(path, body);
  await chmod(path, mode);
  await utimes(path, OLD, OLD);
  return path;
}

const crossDevice = statSync('/dev/shm', { throwIfNoEntry: false })?.dev !== undefined && statSync('/dev/shm').dev !== statSync(tmpdir()).dev;

describe('cleanup module', () => {
  it('copies keeping content, mode and timestamps; a folder destination receives the file under its name', async () => {
    const d = await temp();
    const src = await file(join(d, 'a.mkv'));
    await mkdir(join(d, 'out'));
    const { result } = await runTask(cleanupModule, { copy: [{ source: src, destination: join(d, 'out') }, { source: src, destination: join(d, 'new/deep/b.mkv') }] });
    expect(result.completed).toBe(true);
    for (const target of [join(d, 'out/a.mkv'), join(d, 'new/deep/b.mkv')]) {
      expect(await readFile(target, 'utf8')).toBe('payload');
      const st = await stat(target);
      expect(st.mtime.toISOString()).toBe(OLD.toISOString());
      expect(st.mode & 0o777).toBe(0o640);
    }
    expect(existsSync(src)).toBe(true);
    expect((await readdir(join(d, 'out'))).filter((n) => n.includes('sisyphus'))).toEqual([]);
  });

  it('moves within a filesystem by rename', async () => {
    const d = await temp();
    const src = await file(join(d, 'a.mkv'));
    const { result, logs } = await runTask(cleanupModule, { move: [{ source: src, destination: join(d, 'b.mkv') }] });
    expect(result.completed).toBe(true);
    expect(existsSync(src)).toBe(false);
    expect(await readFile(join(d, 'b.mkv'), 'utf8')).toBe('payload');
    expect(logs.map((l) => l.message)).toEqual([`moved ${src} -> ${join(d, 'b.mkv')}`]);
  });

  it.runIf(crossDevice)('moves across filesystems (tmp -> tmpfs /dev/shm): copy, keep timestamps, then remove the source', async () => {
    const d = await temp();
    const shm = await temp('/dev/shm');
    const src = await file(join(d, 'a.mkv'), 'x'.repeat(100_000));
    await mkdir(join(d, 'folder'));
    await file(join(d, 'folder', 'inner.txt'));
    const { result, logs } = await runTask(cleanupModule, {
      move: [{ source: src, destination: `${shm}/` }, { source: join(d, 'folder'), destination: join(shm, 'folder2') }],
    });
    expect(result.completed).toBe(true);
    expect(logs.map((l) => l.message)).toEqual([
      `moved ${src} -> ${join(shm, 'a.mkv')} (across filesystems)`,
      `moved ${join(d, 'folder')} -> ${join(shm, 'folder2')} (across filesystems)`,
    ]);
    expect(existsSync(src)).toBe(false);
    expect(existsSync(join(d, 'folder'))).toBe(false);
    expect((await stat(join(shm, 'a.mkv'))).size).toBe(100_000);
    expect((await stat(join(shm, 'a.mkv'))).mtime.toISOString()).toBe(OLD.toISOString());
    expect(await readFile(join(shm, 'folder2', 'inner.txt'), 'utf8')).toBe('payload');
  });

  it('a cross-device move whose copy fails leaves the source intact and no partial file behind', async () => {
    const d = await temp();
    const src = await file(join(d, 'a.mkv'));
    const exdev = Object.assign(new Error('EXDEV: cross-device link not permitted'), { code: 'EXDEV' });
    const temps = new Set<string>();
    const failingCopy = async (_s: string, target: string) => {
      await writeFile(target, 'half');
      throw new Error('ENOSPC: no space left on device');
    };
    await expect(
      moveEntry(src, join(d, 'out', 'a.mkv'), await stat(src), { rename: async () => { throw exdev; }, copy: failingCopy, temps }),
    ).rejects.toThrow(/cannot copy .* ENOSPC/);
    expect(await readFile(src, 'utf8')).toBe('payload');
    expect(await readdir(join(d, 'out'))).toEqual([]);
    expect(temps.size).toBe(0);
  });

  it('deletes files and empty folders, refuses non-empty folders, and a missing path is a RunError naming it', async () => {
    const d = await temp();
    const f = await file(join(d, 'x'));
    await mkdir(join(d, 'empty'));
    await mkdir(join(d, 'full'));
    await file(join(d, 'full', 'keep'));
    expect((await runTask(cleanupModule, { delete: [f, join(d, 'empty')] })).result.completed).toBe(true);
    expect(existsSync(f) || existsSync(join(d, 'empty'))).toBe(false);

    const full = await runTask(cleanupModule, { delete: [join(d, 'full')] });
    expect(full.result.code).toBe(ErrorCodes.RUN);
    expect(full.result.message).toBe(`delete[0]: ${join(d, 'full')} is a folder that is not empty; only empty folders are deleted`);
    expect(existsSync(join(d, 'full', 'keep'))).toBe(true);

    const missing = await runTask(cleanupModule, { copy: [{ source: join(d, 'nope.mkv'), destination: d }] });
    expect(missing.result.code).toBe(ErrorCodes.RUN);
    expect(missing.result.message).toBe(`copy[0].source: ${join(d, 'nope.mkv')} does not exist`);
  });

  it('runs copies, then moves, then deletes (the seed: move the output, delete the intermediate)', async () => {
    const d = await temp();
    await file(join(d, 'output_file.mkv'), 'intermediate');
    await file(join(d, 'final.mkv'), 'final');
    const { result } = await runTask(
      cleanupModule,
      { delete: ['output_file.mkv'], move: [{ source: 'final.mkv', destination: 'Done/final.mkv' }] },
      { cwd: d },
    );
    expect(result.completed).toBe(true);
    expect(await readdir(d)).toEqual(['Done']);
    expect(await readFile(join(d, 'Done/final.mkv'), 'utf8')).toBe('final');
  });

  it.each([
    [{}, 'must have at least one of delete, copy, move'],
    [{ delete: [] }, 'delete must have at least 1 item'],
    [{ copy: [{ source: 'a' }] }, 'copy[0].destination is required'],
    [{ move: [{ source: 'a', destination: 'b', mode: 1 }] }, 'move[0].mode is not an allowed field'],
    [{ purge: ['a'] }, 'purge is not an allowed field'],
  ])('rejects bad data %j naming the field', async (data, message) => {
    const { result } = await runTask(cleanupModule, data as Record<string, unknown>);
    expect(result.code).toBe(ErrorCodes.VALIDATION);
    expect(result.message).toBe(message);
  });

  describe('allowed roots', () => {
    it('rejects .. escapes and symlinks out of the roots before any task runs', async () => {
      const root = await temp();
      const outside = await temp();
      const secret = await file(join(outside, 'secret'));
      await file(join(root, 'in.mkv'));
      await symlink(outside, join(root, 'link'));
      const engine = createEngine({ plugins: [cleanupPlugin], allowedRoots: [root] });
      const cases: Array<[Record<string, unknown>, string]> = [
        [{ delete: [join(root, '..', outside.split('/').pop()!, 'secret')] }, 'delete[0]'],
        [{ delete: [join(root, 'link', 'secret')] }, 'delete[0]'],
        [{ copy: [{ source: join(root, 'in.mkv'), destination: join(root, 'link', 'new-dir', 'x') }] }, 'copy[0].destination'],
        [{ move: [{ source: join(root, 'in.mkv'), destination: '/etc/passwd' }] }, 'move[0].destination'],
      ];
      for (const [data, field] of cases) {
        const result = await engine.run({
          job_title: 'escape',
          tasks: [{ module: 'cleanup', data: { copy: [{ source: join(root, 'in.mkv'), destination: join(root, 'copy.mkv') }] } }, { module: 'cleanup', data }],
        });
        expect(result.code, JSON.stringify(data)).toBe(ErrorCodes.PATH_NOT_ALLOWED);
        expect(result.task_index).toBe(1);
        expect(result.message.startsWith(`${field} `)).toBe(true);
        expect(result.message).toContain('outside the allowed roots');
        // Nothing ran: not even the first, harmless task.
        expect(existsSync(join(root, 'copy.mkv'))).toBe(false);
      }
      expect(await readFile(secret, 'utf8')).toBe('payload');
    });

    it('allows paths inside the roots, also through a symlinked root', async () => {
      const real = await temp();
      const linkParent = await temp();
      await symlink(real, join(linkParent, 'media'));
      await file(join(real, 'a'));
      const { result } = await runTask(cleanupModule, { copy: [{ source: join(linkParent, 'media', 'a'), destination: join(real, 'b') }] }, {
        allowedRoots: [join(linkParent, 'media')],
      });
      expect(result.completed).toBe(true);
    });

    it('plans without touching anything', async () => {
      const d = await temp();
      const plan = await planTask(cleanupModule, { move: [{ source: 'a', destination: 'b' }], delete: ['c'] }, { cwd: d });
      expect(plan.tasks[0]!.plan).toEqual([`move ${join(d, 'a')} -> ${join(d, 'b')}`, `delete ${join(d, 'c')}`]);
    });
  });
});
