import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { chmod, lstat, mkdir, mkdtemp, readdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { readFileSync, readdirSync } from 'node:fs';
import { removeTree, treeRemoval } from '@sisyphus/core';
import { execFileSync } from 'node:child_process';
// Internal: the mount table reading removeTree does.
import { mountPointsUnder } from '../src/files/remove-tree.js';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sis-remove-tree-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

let n = 0;
/** A fresh folder with a victim folder of 5 files beside the tree under test. */
async function scene(): Promise<{ base: string; victim: string }> {
  const base = join(dir, `s${++n}`);
  const victim = join(base, 'victim');
  await mkdir(victim, { recursive: true });
  for (let i = 0; i < 5; i++) await writeFile(join(victim, `v${i}`), 'keep');
  return { base, victim };
}

describe('removeTree', () => {
  it('removes GNU rm style on this machine (Debian): by folder handles', async () => {
    expect(await treeRemoval()).toBe('fd-relative');
  });

  it('removes a file, an empty folder, a tree; nothing there is fine', async () => {
    const { base } = await scene();
    await writeFile(join(base, 'f'), 'x');
    await mkdir(join(base, 'empty'));
    await mkdir(join(base, 'tree', 'a', 'b'), { recursive: true });
    await writeFile(join(base, 'tree', 'a', 'b', 'c'), 'x');
    await writeFile(join(base, 'tree', '-rf'), 'x');
    for (const name of ['f', 'empty', 'tree', 'missing']) await removeTree(join(base, name));
    expect((await readdir(base)).sort()).toEqual(['victim']);
  });

  it('a link is removed, never followed: at the top or anywhere in the tree', async () => {
    const { base, victim } = await scene();
    await symlink(victim, join(base, 'to-folder'));
    await symlink(join(victim, 'v0'), join(base, 'to-file'));
    await mkdir(join(base, 'tree', 'deep'), { recursive: true });
    await symlink(victim, join(base, 'tree', 'deep', 'link'));
    await symlink('../../victim', join(base, 'tree', 'relative'));
    for (const name of ['to-folder', 'to-file', 'tree']) await removeTree(join(base, name));
    expect((await readdir(base)).sort()).toEqual(['victim']);
    expect((await readdir(victim)).sort()).toEqual(['v0', 'v1', 'v2', 'v3', 'v4']);
  });

  it('a failure names the path and what could not be removed', async () => {
    if (process.getuid?.() === 0) {
      // Root may remove anything; an immutable-free way to fail: a path through a file.
      const { base } = await scene();
      await writeFile(join(base, 'file'), 'x');
      await expect(removeTree(join(base, 'file', 'below'))).rejects.toThrow(`cannot remove ${join(base, 'file', 'below')}: a part of the path is not a folder (ENOTDIR)`);
      return;
    }
    const { base } = await scene();
    await mkdir(join(base, 'locked', 'in'), { recursive: true });
    await writeFile(join(base, 'locked', 'in', 'f'), 'x');
    await chmod(join(base, 'locked', 'in'), 0o500);
    await expect(removeTree(join(base, 'locked'))).rejects.toThrow(/^cannot remove .*locked: rm: cannot remove .*Permission denied/);
    await chmod(join(base, 'locked', 'in'), 0o700);
  });

  it('a tree with a mount point in it is not touched, a bind mount of the same file system too (rm\'s --one-file-system goes by device number)', async () => {
    expect(mountPointsUnder(['/srv/out/t'], '36 25 0:32 / /srv/out/t/mnt rw - tmpfs x rw\n37 25 0:33 / /srv/out/t2 rw - tmpfs y rw\n38 25 8:1 /a /srv/out/t/with\\040space rw - ext4 /dev/sda1 rw\n')).toEqual([
      '/srv/out/t/mnt',
      '/srv/out/t/with space',
    ]);
    // This machine's tests run as root (CI): a real bind mount.
    expect(process.getuid?.()).toBe(0);
    const { base, victim } = await scene();
    const mnt = join(base, 'tree', 'mnt');
    await mkdir(mnt, { recursive: true });
    await writeFile(join(base, 'tree', 'own'), 'x');
    execFileSync('mount', ['--bind', victim, mnt]);
    try {
      await expect(removeTree(join(base, 'tree'))).rejects.toThrow(`cannot remove ${join(base, 'tree')}: ${mnt} in it is a mount point (a file system or a folder mounted there); nothing was removed`);
      expect((await readdir(victim)).sort()).toEqual(['v0', 'v1', 'v2', 'v3', 'v4']);
      expect((await readdir(join(base, 'tree'))).sort()).toEqual(['mnt', 'own']);
    } finally {
      execFileSync('umount', [mnt]);
    }
    await removeTree(join(base, 'tree'));
    expect((await readdir(base)).sort()).toEqual(['victim']);
  });

  it('a folder in the tree swapped for a link to elsewhere while it is removed: nothing elsewhere is touched (200 rounds)', async () => {
    const { base, victim } = await scene();
    const trees = join(base, 'trees');
    await mkdir(trees);
    // The attacker: whoever may rename entries of the tree. It swaps `sub` of the round's tree for a link to the victim
    // as soon as the removal has begun. Against Node's fs.rm (by path) the victim's files are gone within a few dozen
    // rounds (seen: round 11, with /usr/bin/rm hidden from removeTree).
    const attacker = spawn(
      process.execPath,
      [
        '-e',
        `const fs = require('fs'); const [trees, victim] = process.argv.slice(1);
         process.stdin.on('data', (b) => {
           for (const name of b.toString().split('\\n').filter(Boolean)) {
             const tree = trees + '/' + name;
             // As soon as the removal has begun (a file of the tree is gone), swap.
             const until = Date.now() + 2000;
             while (Date.now() < until && fs.existsSync(tree + '/f0') && fs.existsSync(tree + '/f99'));
             try { fs.renameSync(tree + '/sub', tree + '.away'); fs.symlinkSync(victim, tree + '/sub'); } catch {}
             process.stdout.write(name + '\\n');
           }
         });`,
        trees,
        victim,
      ],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    const swapped = new Map<string, () => void>();
    let pending = '';
    attacker.stdout!.on('data', (b: Buffer) => {
      pending += b.toString();
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) swapped.get(line)?.();
    });
    try {
      let during = 0;
      for (let round = 0; round < 200; round++) {
        const name = `t${round}`;
        const stage = join(base, 'stage');
        await mkdir(join(stage, 'sub'), { recursive: true });
        for (let i = 0; i < 5; i++) await writeFile(join(stage, 'sub', `v${i}`), 'tree');
        for (let i = 0; i < 100; i++) await writeFile(join(stage, `f${i}`), '');
        await rename(stage, join(trees, name));
        const done = new Promise<void>((resolve) => swapped.set(name, resolve));
        attacker.stdin!.write(`${name}\n`);
        await removeTree(join(trees, name)).catch(() => undefined);
        await done;
        // The swap came while the tree was still there (its folder moved out): the race was run, not missed.
        if (await lstat(join(trees, `${name}.away`)).then(() => true, () => false)) during++;
        expect((await readdir(victim)).sort(), `round ${round}`).toEqual(['v0', 'v1', 'v2', 'v3', 'v4']);
        await rm(join(trees, name), { recursive: true, force: true });
        await rm(join(trees, `${name}.away`), { recursive: true, force: true });
      }
      expect(during, 'rounds where the swap came during the removal').toBeGreaterThanOrEqual(20);
    } finally {
      attacker.kill('SIGKILL');
    }
  }, 120_000);

  it('is the only recursive removal in the shipped packages (no fs.rm with recursive elsewhere)', () => {
    const root = join(import.meta.dirname, '..', '..');
    const offenders: string[] = [];
    const walk = (at: string): void => {
      for (const entry of readdirSync(at, { withFileTypes: true })) {
        const path = join(at, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (/\.(ts|tsx|mjs|js)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) {
          const text = readFileSync(path, 'utf8');
          if (/\brm(Sync)?\([^)]*recursive/.test(text)) offenders.push(relative(root, path));
        }
      }
    };
    for (const top of ['core', 'modules', 'plugins']) {
      for (const pkg of top === 'core' ? ['.'] : readdirSync(join(root, top))) {
        const src = join(root, top, pkg, 'src');
        try {
          walk(src);
        } catch {
          // (a folder without src)
        }
      }
    }
    // The SDK's TestFolder removes its own mkdtemp folder in a test's temp dir; remove-tree.ts is the rule itself.
    expect(offenders.sort()).toEqual(['core/src/files/remove-tree.ts', 'core/src/testing/test-folder.ts']);
  });
});
