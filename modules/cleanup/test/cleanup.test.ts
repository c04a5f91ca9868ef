import { afterEach, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, utimes, writeFile, chmod } from 'node:fs/promises';
import { existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { ErrorCodes, createEngine } from '@sisyphus/core';
import { planTask, runTask } from '@sisyphus/core/testing';
import cleanupPlugin, { cleanupModule } from '@sisyphus/module-cleanup';

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

  it('a cross-device move whose copy fails (a full disk) leaves the source intact and nothing under the destination', async () => {
    const d = await temp();
    const full = await temp();
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', full]);
    try {
      const src = await file(join(d, 'a.mkv'), 'x'.repeat(200_000));
      const { result } = await runTask(cleanupModule, { move: [{ source: src, destination: join(full, 'out', 'a.mkv') }] });
      expect(result.code).toBe(ErrorCodes.RUN);
      expect(result.message).toBe(`move[0]: cannot copy ${src} to ${join(full, 'out', 'a.mkv')}: no space left on device (ENOSPC)`);
      expect((await stat(src)).size).toBe(200_000);
      expect(await readdir(join(full, 'out'))).toEqual([]);
    } finally {
      execFileSync('umount', [full]);
    }
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
    expect(missing.result.code).toBe(ErrorCodes.VALIDATION);
    expect(missing.result.message).toBe(`copy[0].source: ${join(d, 'nope.mkv')} does not exist (and no earlier task of the job writes it)`);
  });

  it('delete_folders: deletes a folder with everything in it (symlinks removed, not followed); one already gone is fine; never a root, a symlink or a file', async () => {
    const root = await temp();
    const outside = await temp();
    const kept = await file(join(outside, 'kept'));
    const chunks = join(root, '.sisyphus-chunks-1');
    await mkdir(join(chunks, '.sisyphus-tmp-x'), { recursive: true });
    await file(join(chunks, 'chunk-00000.nut'));
    await file(join(chunks, '.sisyphus-tmp-x', 'partial.nut'));
    await symlink(outside, join(chunks, 'link-out'));
    await symlink(kept, join(chunks, 'file-link'));
    const done = await runTask(cleanupModule, { delete_folders: [chunks] }, { allowedRoots: [root] });
    expect(done.result.completed).toBe(true);
    expect(existsSync(chunks)).toBe(false);
    expect(await readFile(kept, 'utf8')).toBe('payload'); // what links pointed at stays
    expect(done.logs.some((l) => l.message === `deleted the folder ${chunks}`)).toBe(true);

    const gone = await runTask(cleanupModule, { delete_folders: [chunks] }, { allowedRoots: [root] });
    expect(gone.result.completed).toBe(true);
    expect(gone.logs.some((l) => /is gone already$/.test(l.message))).toBe(true);

    const asRoot = await runTask(cleanupModule, { delete_folders: [root] }, { allowedRoots: [root] });
    expect(asRoot.result.code).toBe(ErrorCodes.VALIDATION);
    expect(asRoot.result.message).toBe(`delete_folders[0]: ${root} is an allowed root; a root is never deleted`);
    expect(existsSync(root)).toBe(true);
    await mkdir(join(root, 'mid', 'inner'), { recursive: true });
    const holding = await runTask(cleanupModule, { delete_folders: [join(root, 'mid')] }, { allowedRoots: [root, join(root, 'mid', 'inner')] });
    expect(holding.result.message).toBe(`delete_folders[0]: ${join(root, 'mid')} holds the allowed root ${join(root, 'mid', 'inner')}; a root is never deleted`);
    expect(existsSync(join(root, 'mid', 'inner'))).toBe(true);

    await symlink(outside, join(root, 'to-outside'));
    const viaLink = await runTask(cleanupModule, { delete_folders: [join(root, 'to-outside')] }, { allowedRoots: [root] });
    expect(viaLink.result.code).toBe(ErrorCodes.PATH_NOT_ALLOWED);
    await mkdir(join(root, 'real'));
    await symlink(join(root, 'real'), join(root, 'inner-link'));
    const linked = await runTask(cleanupModule, { delete_folders: [join(root, 'inner-link')] }, { allowedRoots: [root] });
    expect(linked.result.message).toBe(`delete_folders[0]: ${join(root, 'inner-link')} is a symlink; delete_folders deletes folders only`);
    const aFile = await runTask(cleanupModule, { delete_folders: [await file(join(root, 'f'))] }, { allowedRoots: [root] });
    expect(aFile.result.message).toBe(`delete_folders[0]: ${join(root, 'f')} is not a folder; delete_folders deletes folders only`);
    expect(existsSync(join(root, 'real')) && existsSync(kept)).toBe(true);
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
    [{}, 'must have at least one of delete, copy, move, delete_folders'],
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
      await file(join(d, 'a'));
      await file(join(d, 'c'));
      const plan = await planTask(cleanupModule, { move: [{ source: 'a', destination: 'b' }], delete: ['c'] }, { cwd: d });
      expect(plan.tasks[0]!.plan).toEqual([`move ${join(d, 'a')} -> ${join(d, 'b')}`, `delete ${join(d, 'c')}`]);
      expect((await readdir(d)).sort()).toEqual(['a', 'c']);
    });
  });

  describe('files are never damaged', () => {
    it('copies and moves to a 250-byte name (a legal name leaves no room for a temporary name beside it)', async () => {
      const d = await temp();
      const long = `${'n'.repeat(246)}.mkv`;
      const src = await file(join(d, 'a.mkv'));
      const { result } = await runTask(cleanupModule, { copy: [{ source: src, destination: join(d, 'c', long) }], move: [{ source: src, destination: join(d, 'm', long) }] });
      expect(result.completed, result.message).toBe(true);
      expect(await readFile(join(d, 'c', long), 'utf8')).toBe('payload');
      expect(await readFile(join(d, 'm', long), 'utf8')).toBe('payload');
      expect((await readdir(d)).sort()).toEqual(['c', 'm']);
    });

    it('a copy or move onto its own source, through a symlinked folder or a hard link, is refused at validate', async () => {
      const d = await temp();
      const src = await file(join(d, 'a.mkv'));
      await symlink(d, join(d, 'library'));
      execFileSync('ln', [src, join(d, 'hard.mkv')]);
      for (const [data, field, target] of [
        [{ move: [{ source: join(d, 'library', 'a.mkv'), destination: src }] }, 'move[0]', src],
        [{ copy: [{ source: src, destination: join(d, 'hard.mkv') }] }, 'copy[0]', join(d, 'hard.mkv')],
      ] as const) {
        const { result } = await runTask(cleanupModule, data);
        expect(result.code).toBe(ErrorCodes.VALIDATION);
        expect(result.message.startsWith(`${field}: the destination ${target} is the same file as the source`)).toBe(true);
      }
      expect(await readFile(src, 'utf8')).toBe('payload');
    });

    it('a chain inside one task (copy a -> b, then move b -> c) is not mistaken for writing onto its own input', async () => {
      const d = await temp();
      const a = await file(join(d, 'a.mkv'));
      const { result } = await runTask(cleanupModule, { copy: [{ source: a, destination: join(d, 'b.mkv') }], move: [{ source: join(d, 'b.mkv'), destination: join(d, 'c.mkv') }] });
      expect(result.completed, result.message).toBe(true);
      expect((await readdir(d)).sort()).toEqual(['a.mkv', 'c.mkv']);
    });

    it('a folder whose relative symlink would point outside the roots from its new place is refused (copy and move)', async () => {
      const root = await temp();
      const outside = await temp();
      await file(join(outside, 'secret.txt'), 'secret');
      // a/D/out -> ../../outside: inside the roots where it is (root/outside), outside once copied one level up.
      await mkdir(join(root, 'outside'));
      await mkdir(join(root, 'a', 'D'), { recursive: true });
      await symlink('../../outside', join(root, 'a', 'D', 'out'));
      await symlink(outside, join(root, 'escape'));
      for (const data of [{ copy: [{ source: join(root, 'a', 'D'), destination: join(root, 'P') }] }, { move: [{ source: join(root, 'a', 'D'), destination: join(root, 'P') }] }]) {
        const { result } = await runTask(cleanupModule, data, { allowedRoots: [root] });
        expect(result.code).toBe(ErrorCodes.PATH_NOT_ALLOWED);
        expect(result.message).toMatch(/^(copy|move)\[0\]\.source \(symlink D\/out\) ".*" resolves to .*, outside the allowed roots/);
      }
      expect(existsSync(join(root, 'P'))).toBe(false);
      const ok = await runTask(cleanupModule, { copy: [{ source: join(root, 'a'), destination: join(root, 'b') }] }, { allowedRoots: [root] });
      expect(ok.result.completed, ok.result.message).toBe(true);
    });

    it('a FIFO as a source is refused at validate (reading one would block the process for good)', async () => {
      const d = await temp();
      execFileSync('mkfifo', [join(d, 'stalled.mkv')]);
      const { result } = await runTask(cleanupModule, { copy: [{ source: join(d, 'stalled.mkv'), destination: join(d, 'out.mkv') }] });
      expect(result.code).toBe(ErrorCodes.VALIDATION);
      expect(result.message).toBe(`copy[0].source: ${join(d, 'stalled.mkv')} is a FIFO (named pipe), not a file or folder`);
    });

    it('a FIFO reached through a symlink is refused too (a copy follows the link)', async () => {
      const d = await temp();
      execFileSync('mkfifo', [join(d, 'pipe')]);
      await symlink(join(d, 'pipe'), join(d, 'link'));
      const { result } = await runTask(cleanupModule, { copy: [{ source: join(d, 'link'), destination: join(d, 'copied.bin') }] });
      expect(result.code).toBe(ErrorCodes.VALIDATION);
      expect(result.message).toBe(`copy[0].source: ${join(d, 'link')} is a FIFO (named pipe), not a file or folder`);
    });

    it("a folder holding another attempt's claim or private folder is not moved or copied", async () => {
      const d = await temp();
      await mkdir(join(d, 'work', '.sisyphus-tmp-0123456789ab'), { recursive: true });
      await file(join(d, 'work', '.sisyphus-claim-0123456789abcdef'));
      for (const data of [{ move: [{ source: join(d, 'work'), destination: join(d, 'work2') }] }, { copy: [{ source: join(d, 'work'), destination: join(d, 'work3') }] }]) {
        const { result } = await runTask(cleanupModule, data);
        expect(result.code).toBe(ErrorCodes.VALIDATION);
        expect(result.message).toMatch(/\.source: .*\/work holds work\/\.sisyphus-(tmp|claim)-[0-9a-f]+, a working file of an output being written; wait for that job to finish$/);
      }
      expect((await readdir(d)).sort()).toEqual(['work']);
    });

    it('moving away a folder that holds what a later task reads is refused before anything runs', async () => {
      const d = await temp();
      await mkdir(join(d, 'dir'));
      await file(join(d, 'dir', 'a.mkv'));
      const engine = createEngine({ plugins: [cleanupPlugin] });
      const result = await engine.run({
        job_title: 'folder moved',
        tasks: [
          { module: 'cleanup', data: { move: [{ source: join(d, 'dir'), destination: join(d, 'dir2') }] } },
          { module: 'cleanup', data: { copy: [{ source: join(d, 'dir', 'a.mkv'), destination: join(d, 'b.mkv') }] } },
        ],
      });
      expect(result.code).toBe(ErrorCodes.VALIDATION);
      expect(result.message).toBe(`removes ${join(d, 'dir')}, which task 2 (cleanup) reads later (${join(d, 'dir', 'a.mkv')})`);
    });

    it('a delete of a file a later task still reads is refused before anything runs', async () => {
      const d = await temp();
      const src = await file(join(d, 'a.mkv'));
      const engine = createEngine({ plugins: [cleanupPlugin] });
      const result = await engine.run({
        job_title: 'early delete',
        tasks: [
          { module: 'cleanup', data: { delete: [src] } },
          { module: 'cleanup', data: { copy: [{ source: src, destination: join(d, 'b.mkv') }] } },
        ],
      });
      expect(result.code).toBe(ErrorCodes.VALIDATION);
      expect(result.task_index).toBe(0);
      expect(result.message).toBe(`removes ${src}, which task 2 (cleanup) reads later (${src})`);
      expect(await readFile(src, 'utf8')).toBe('payload');
    });

    it('a read-only destination is found at validate; one that turns read-only before the run fails naming the field and the real cause', async () => {
      const d = await temp();
      const share = await temp();
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', share]);
      const src = await file(join(d, 'a.mkv'));
      try {
        const early = await runTask(cleanupModule, { move: [{ source: src, destination: join(share, 'Done', 'a.mkv') }] });
        expect(early.result.code).toBe(ErrorCodes.VALIDATION);
        expect(early.result.message).toBe(`move[0].destination: cannot create files in ${share}: read-only file system (EROFS)`);
        execFileSync('mount', ['-o', 'remount,rw', share]);
        const engine = createEngine({ plugins: [cleanupPlugin] });
        engine.on('task:phase', (e) => {
          if (e.phase === 'validate' && e.status === 'end') execFileSync('mount', ['-o', 'remount,ro', share]);
        });
        const late = await engine.run({ job_title: 'late', tasks: [{ module: 'cleanup', data: { move: [{ source: src, destination: join(share, 'Done', 'a.mkv') }] } }] });
        expect(late.code).toBe(ErrorCodes.RUN);
        expect(late.message).toBe(`move[0].destination: cannot create the folder ${join(share, 'Done')}: read-only file system (EROFS) in ${share}`);
        expect(await readFile(src, 'utf8')).toBe('payload');
      } finally {
        execFileSync('umount', [share]);
      }
    });
  });
});
