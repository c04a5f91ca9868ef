import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCodes } from '@sisyphus/core';
import { assertCompleted, createTestFolder, phaseTrail, planTask, runTask, type TestFolder } from '@sisyphus/core/testing';
import plugin, { checksumModule } from '../src/index.js';

const HELLO_SHA256 = '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824';

// A fresh temp folder per test, with the inputs in it; runTask(..., { folder }) resolves
// relative paths from it and makes it the only allowed root.
let folder: TestFolder;
beforeEach(async () => {
  folder = await createTestFolder({ files: { 'hello.txt': 'hello', 'big.bin': Buffer.alloc(3 * 1024 * 1024, 7) } });
});
afterEach(() => folder.remove());

describe('checksum module (example third-party module)', () => {
  it('is a plugin exporting the checksum module', () => {
    expect(plugin.name).toBe('sisyphus-module-checksum');
    expect(plugin.modules.map((m) => m.name)).toEqual(['checksum']);
  });

  it('hashes files, reports progress up to 100 % and writes sha256sum-style sidecars', async () => {
    const run = await runTask(checksumModule, { files: ['hello.txt', 'big.bin'], sidecar: true }, { folder });
    assertCompleted(run);
    expect(phaseTrail(run)).toEqual(['init:start', 'init:end', 'validate:start', 'validate:end', 'run:start', 'run:end', 'cleanup:start', 'cleanup:end']);
    expect(run.logs[0]!.message).toBe(`${HELLO_SHA256}  ${folder.resolve('hello.txt')}`);
    expect(await folder.readText('hello.txt.sha256')).toBe(`${HELLO_SHA256}  hello.txt\n`);
    expect(run.progress.length).toBeGreaterThan(2);
    const percents = run.progress.map((p) => p.percent);
    expect(percents.at(-1)).toBe(100);
    expect([...percents].sort((a, b) => a! - b!)).toEqual(percents);
    // The sidecars and nothing else: no claim files or attempt folders left.
    expect(await folder.list()).toEqual(['big.bin', 'big.bin.sha256', 'hello.txt', 'hello.txt.sha256']);
  });

  it('uses the default algorithm from its settings', async () => {
    const { logs } = await runTask(checksumModule, { files: ['hello.txt'] }, { folder, settings: { defaultAlgorithm: 'md5' } });
    expect(logs[0]!.message.startsWith('5d41402abc4b2a76b9719d911017c592')).toBe(true);
  });

  it('fails the run when a digest does not match, leaving no sidecar', async () => {
    const run = await runTask(checksumModule, { files: ['hello.txt'], expect: { 'hello.txt': 'ab' }, sidecar: true }, { folder });
    expect(run.result.code).toBe(ErrorCodes.RUN);
    expect(run.result.message).toMatch(/hello\.txt: sha256 is 2cf2.*, expected ab$/);
    expect(phaseTrail(run).slice(-4)).toEqual(['run:start', 'run:failed', 'cleanup:start', 'cleanup:end']);
    expect(await folder.list()).toEqual(['big.bin', 'hello.txt']);
  });

  it('rejects bad data and paths outside the allowed roots before running', async () => {
    const bad = await runTask(checksumModule, { files: ['hello.txt'], algorithm: 'crc' }, { folder });
    expect(bad.result.message).toBe('algorithm must be one of "sha256", "sha1", "md5", "sha512"');
    const stray = await runTask(checksumModule, { files: ['hello.txt'], expect: { 'other.txt': 'ab' } }, { folder });
    expect(stray.result.message).toBe('expect["other.txt"] names a file that is not in files');
    const outside = await runTask(checksumModule, { files: ['/etc/hostname'] }, { folder });
    expect(outside.result.code).toBe(ErrorCodes.PATH_NOT_ALLOWED);
    expect(outside.result.phase).toBe('validate');
  });

  it('refuses invalid settings', async () => {
    await expect(runTask(checksumModule, { files: ['x'] }, { folder, settings: { defaultAlgorithm: 'crc32' } })).rejects.toThrow(
      'invalid settings for module checksum: settings.checksum.defaultAlgorithm must be one of "sha256", "sha1", "md5", "sha512"',
    );
  });

  it('plans what it will do', async () => {
    const plan = await planTask(checksumModule, { files: ['hello.txt'], sidecar: true }, { folder });
    expect(plan.tasks[0]!.plan).toEqual([`sha256 ${folder.resolve('hello.txt')} -> ${folder.resolve('hello.txt.sha256')}`]);
  });

  it('stops when cancelled', async () => {
    const { result } = await runTask(checksumModule, { files: ['big.bin'] }, { folder, signal: AbortSignal.abort() });
    expect(result.cancelled).toBe(true);
  });
});
