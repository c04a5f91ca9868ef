import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCodes } from '@sisyphus/core';
import { planTask, runTask } from '@sisyphus/core/testing';
import plugin, { checksumModule } from 'sisyphus-module-checksum';

let dir = '';
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function setup(): Promise<string> {
  dir = await mkdtemp(join(tmpdir(), 'checksum-'));
  await writeFile(join(dir, 'hello.txt'), 'hello');
  await writeFile(join(dir, 'big.bin'), Buffer.alloc(3 * 1024 * 1024, 7));
  return dir;
}

describe('checksum module (example third-party module)', () => {
  it('is a plugin exporting the checksum module', () => {
    expect(plugin.name).toBe('sisyphus-module-checksum');
    expect(plugin.modules.map((m) => m.name)).toEqual(['checksum']);
  });

  it('hashes files, reports progress up to 100 % and writes sha256sum-style sidecars', async () => {
    const d = await setup();
    const { result, progress, logs } = await runTask(checksumModule, { files: ['hello.txt', 'big.bin'], sidecar: true }, { cwd: d });
    expect(result.completed).toBe(true);
    expect(logs[0]!.message).toBe(`2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824  ${join(d, 'hello.txt')}`);
    expect(await readFile(join(d, 'hello.txt.sha256'), 'utf8')).toBe('2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824  hello.txt\n');
    expect(progress.length).toBeGreaterThan(2);
    expect(progress.at(-1)!.percent).toBe(100);
    const percents = progress.map((p) => p.percent);
    expect([...percents].sort((a, b) => a - b)).toEqual(percents);
  });

  it('uses the default algorithm from its settings', async () => {
    const d = await setup();
    const { logs } = await runTask(checksumModule, { files: ['hello.txt'] }, { cwd: d, settings: { defaultAlgorithm: 'md5' } });
    expect(logs[0]!.message.startsWith('5d41402abc4b2a76b9719d911017c592')).toBe(true);
  });

  it('fails the run when a digest does not match', async () => {
    const d = await setup();
    const { result } = await runTask(checksumModule, { files: ['hello.txt'], expect: { 'hello.txt': 'ab' } }, { cwd: d });
    expect(result.code).toBe(ErrorCodes.RUN);
    expect(result.message).toMatch(/hello\.txt: sha256 is 2cf2.*, expected ab$/);
  });

  it('rejects bad data and paths outside the allowed roots before running', async () => {
    const d = await setup();
    const bad = await runTask(checksumModule, { files: ['hello.txt'], algorithm: 'crc' }, { cwd: d });
    expect(bad.result.message).toBe('algorithm must be one of "sha256", "sha1", "md5", "sha512"');
    const stray = await runTask(checksumModule, { files: ['hello.txt'], expect: { 'other.txt': 'ab' } }, { cwd: d });
    expect(stray.result.message).toBe('expect["other.txt"] names a file that is not in files');
    const outside = await runTask(checksumModule, { files: ['/etc/hostname'] }, { cwd: d, allowedRoots: [d] });
    expect(outside.result.code).toBe(ErrorCodes.PATH_NOT_ALLOWED);
    expect(outside.result.phase).toBe('validate');
  });

  it('refuses invalid settings', async () => {
    await expect(runTask(checksumModule, { files: ['x'] }, { settings: { defaultAlgorithm: 'crc32' } })).rejects.toThrow(
      'invalid settings for module checksum: settings.checksum.defaultAlgorithm must be one of "sha256", "sha1", "md5", "sha512"',
    );
  });

  it('plans what it will do', async () => {
    const d = await setup();
    const plan = await planTask(checksumModule, { files: ['hello.txt'], sidecar: true }, { cwd: d });
    expect(plan.tasks[0]!.plan).toEqual([`sha256 ${join(d, 'hello.txt')} -> ${join(d, 'hello.txt')}.sha256`]);
  });

  it('stops when cancelled', async () => {
    const d = await setup();
    const { result } = await runTask(checksumModule, { files: ['big.bin'] }, { cwd: d, signal: AbortSignal.abort() });
    expect(result.cancelled).toBe(true);
  });
});
