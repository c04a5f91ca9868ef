import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { link, mkdir, mkdtemp, readdir, readFile, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import {
  ErrorCodes,
  SisyphusError,
  ValidationError,
  checkOutputTarget,
  claimPathFor,
  isSameFile,
  processGone,
  processHostId,
  processStartTicks,
  readClaim,
  type AttemptOwner,
} from '@sisyphus/core';
// Internal pieces the SDK does not export: the per-task service the engine builds.
import { createOutputFiles } from '../src/files/output-files.js';
import { acquireClaim, claimHolder, refreshClaim, releaseClaim } from '../src/files/claim-file.js';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sis-outputs-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

let n = 0;
async function folder(): Promise<string> {
  const d = join(dir, `t${++n}`);
  await mkdir(d);
  return d;
}
const owner = (jobId: string, attempt = `${jobId}-a${++n}`, extra: Partial<AttemptOwner> = {}): AttemptOwner => ({
  jobId, attempt, hostname: 'test-host', pid: process.pid, ...extra,
});
async function rejection(promise: Promise<unknown>): Promise<SisyphusError> {
  try {
    await promise;
  } catch (error) {
    return error as SisyphusError;
  }
  throw new Error('expected a rejection');
}

describe('output claims', () => {
  it('an attempt writes in a private folder beside the target and promotes by rename; nothing is left behind', async () => {
    const d = await folder();
    const files = createOutputFiles(owner('job-1'));
    const target = join(d, 'film.mkv');
    const claim = await files.claim(target, { field: 'output_file' });
    expect(claim.path).toMatch(new RegExp(`^${d}/\\.sisyphus-tmp-[0-9a-f]{12}/film\\.mkv$`));
    expect(existsSync(target)).toBe(false);
    await writeFile(claim.path, 'encoded');
    expect(await claim.promote()).toEqual([target]);
    expect(await readFile(target, 'utf8')).toBe('encoded');
    expect(await readdir(d)).toEqual(['film.mkv']);
    expect(claim.state).toBe('promoted');
  });

  it('any name the file system accepts works: a 250-byte name; a name too long is a ValidationError naming the field', async () => {
    const d = await folder();
    const long = `${'é'.repeat(123)}.mkv`; // 250 bytes in UTF-8
    expect(Buffer.byteLength(long)).toBe(250);
    await checkOutputTarget(join(d, long), 'output_file');
    const claim = await createOutputFiles(owner('job-long')).claim(join(d, long), { field: 'output_file' });
    await writeFile(claim.path, 'x');
    await claim.promote();
    expect(await readdir(d)).toEqual([long]);
    const tooLong = `${'a'.repeat(252)}.mkv`;
    const error = await rejection(checkOutputTarget(join(d, tooLong), 'output_file'));
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.message).toBe(`output_file: cannot create a file named "${tooLong}" in ${d}: file name too long (ENAMETOOLONG)`);
    expect(await readdir(d)).toEqual([long]);
  });

  it("another job's live claim makes the second writer fail, naming the file and the job; the first is untouched", async () => {
    const d = await folder();
    const target = join(d, 'out.mkv');
    const first = await createOutputFiles(owner('job-A')).claim(target, { field: 'output_file' });
    await writeFile(first.path, 'from A');
    const error = await rejection(createOutputFiles(owner('job-B', 'b-1', { workerId: 'w-2' })).claim(target, { field: 'output_file' }));
    expect(error.code).toBe(ErrorCodes.OUTPUT_CLAIMED);
    expect(error.message).toMatch(new RegExp(`^output_file: ${target} is being written by job job-A \\(attempt job-A-a\\d+, on host test-host, pid ${process.pid}, since .*, last refreshed 0 s ago; taken over after 90 s without a refresh\\)$`));
    await first.promote();
    expect(await readFile(target, 'utf8')).toBe('from A');
  });

  it('two spellings of one name (a case-insensitive share) share one claim', async () => {
    const d = await folder();
    await createOutputFiles(owner('job-C1')).claim(join(d, 'Film.MKV'), { field: 'output_file' });
    const error = await rejection(createOutputFiles(owner('job-C2')).claim(join(d, 'film.mkv'), { field: 'output_file' }));
    expect(error.code).toBe(ErrorCodes.OUTPUT_CLAIMED);
    expect(claimPathFor(join(d, 'Film.MKV'))).toBe(claimPathFor(join(d, 'film.mkv')));
  });

  it('a new attempt of the same job (leased by a server to a worker) takes over; the old (zombie) attempt then cannot promote and removes only its own files', async () => {
    const d = await folder();
    const target = join(d, 'out.mkv');
    const zombie = await createOutputFiles(owner('job-Z', 'z-1', { workerId: 'w-1' })).claim(target, { field: 'output_file' });
    await writeFile(zombie.path, 'stale half');
    const healthy = await createOutputFiles(owner('job-Z', 'z-2', { workerId: 'w-2' })).claim(target, { field: 'output_file' });
    expect(healthy.superseded?.reason).toBe('an earlier attempt of this job (z-1, worker w-1) held it');
    await writeFile(healthy.path, 'complete');
    const lost = await rejection(zombie.promote());
    expect(lost.code).toBe(ErrorCodes.OUTPUT_CLAIMED);
    expect(lost.message).toMatch(/^output_file: this attempt lost its claim on .* to job job-Z \(attempt z-2, .*nothing was promoted$/);
    await zombie.discard();
    expect(existsSync(healthy.path)).toBe(true);
    expect((await readClaim(claimPathFor(target)))?.record?.attempt).toBe('z-2');
    await healthy.promote();
    expect(await readFile(target, 'utf8')).toBe('complete');
    expect(await readdir(d)).toEqual(['out.mkv']);
  });

  it('a claim is never seen missing or half written by its holder: exclusive creation is atomic, and a loser releasing never moves the winner\'s claim aside', async () => {
    const d = await folder();
    const path = claimPathFor(join(d, 'race.mkv'));
    const record = (attempt: string) => ({ target: join(d, 'race.mkv'), job_id: 'job-R', attempt, hostname: 'test-host', pid: process.pid, folder: `.sisyphus-tmp-${attempt}`, claimed_at: new Date().toISOString() });
    for (let round = 0; round < 100; round++) {
      await rm(path, { force: true });
      const seen: Array<string | undefined> = [];
      let done = false;
      const reader = (async () => {
        while (!done) {
          const held = await readClaim(path);
          if (held) seen.push(held.record?.attempt);
          await new Promise((r) => setImmediate(r));
        }
      })();
      await acquireClaim(path, record(`w-${round}`), owner('job-R', `w-${round}`));
      // Losers of this claim release what they believe is theirs, while the holder checks it.
      const checks = await Promise.all([
        ...Array.from({ length: 5 }, () => releaseClaim(path, 'a-zombie')),
        ...Array.from({ length: 5 }, () => claimHolder(path).then((h) => h?.record?.attempt)),
      ]);
      done = true;
      await reader;
      expect(seen.every((a) => a === `w-${round}`), `round ${round}: a reader saw ${JSON.stringify(seen.filter((a) => a !== `w-${round}`))}`).toBe(true);
      expect(checks.slice(5)).toEqual(Array(5).fill(`w-${round}`));
    }
    expect((await readdir(d)).sort()).toEqual([basename(path)]);
  });

  it('a loser whose winner has finished and released the claim says so (not "an unknown writer")', async () => {
    const d = await folder();
    const target = join(d, 'out.mkv');
    const zombie = await createOutputFiles(owner('job-G', 'g-1', { workerId: 'w-1' })).claim(target, { field: 'output_file' });
    await writeFile(zombie.path, 'stale half');
    const winner = await createOutputFiles(owner('job-G', 'g-2', { workerId: 'w-2' })).claim(target, { field: 'output_file' });
    await writeFile(winner.path, 'complete');
    await winner.promote();
    const lost = await rejection(zombie.promote());
    expect(lost.code).toBe(ErrorCodes.OUTPUT_CLAIMED);
    expect(lost.message).toMatch(/^output_file: this attempt lost its claim on .*out\.mkv to nobody: the claim file is gone \(another attempt took it over and has finished since, or it was removed\); nothing was promoted$/);
    await zombie.discard();
    expect(await readFile(target, 'utf8')).toBe('complete');
    expect(await readdir(d)).toEqual(['out.mkv']);
  });

  it('a claim that cannot be read is not a lost claim: promotion is refused naming the cause, and its refresh goes on', async () => {
    const d = await folder();
    const target = join(d, 'out.mkv');
    const claim = await createOutputFiles(owner('job-E', 'e-1', { workerId: 'w-1' })).claim(target, { field: 'output_file' });
    await writeFile(claim.path, 'complete');
    // A read error (EISDIR here: root reads anything, so no EACCES) where the claim file was.
    await rm(claimPathFor(target));
    await mkdir(claimPathFor(target));
    expect(await refreshClaim(claimPathFor(target), 'e-1')).toBe(true);
    const error = await rejection(claim.promote());
    expect(error.code).toBe(ErrorCodes.OUTPUT_CLAIMED);
    expect(error.message).toMatch(/^output_file: this attempt cannot read its claim on .*out\.mkv \(is a folder \(EISDIR\)\); nothing was promoted$/);
    expect(existsSync(target)).toBe(false);
    await rm(claimPathFor(target), { recursive: true });
    await claim.discard();
  });

  it('a zombie that wakes up and claims after its successor does not take the claim over: the successor keeps it', async () => {
    const d = await folder();
    const target = join(d, 'out.mkv');
    const now = Date.now();
    const successor = await createOutputFiles(owner('job-W', 'w-2', { workerId: 'w-2', startedAt: now })).claim(target, { field: 'output_file' });
    const late = await rejection(createOutputFiles(owner('job-W', 'w-1', { workerId: 'w-1', startedAt: now - 120_000 })).claim(target, { field: 'output_file' }));
    expect(late.code).toBe(ErrorCodes.OUTPUT_CLAIMED);
    expect(late.message).toMatch(/^output_file: .*out\.mkv is being written by job job-W \(attempt w-2, worker w-2 /);
    expect((await readClaim(claimPathFor(target)))?.record).toMatchObject({ attempt: 'w-2', started_at: new Date(now).toISOString() });
    await writeFile(successor.path, 'complete');
    await successor.promote();
    expect(await readFile(target, 'utf8')).toBe('complete');
    // An attempt that began later takes over as before.
    const next = await createOutputFiles(owner('job-W', 'w-3', { workerId: 'w-3', startedAt: now + 60_000 })).claim(join(d, 'again.mkv'), { field: 'output_file' });
    const after = await createOutputFiles(owner('job-W', 'w-4', { workerId: 'w-4', startedAt: now + 120_000 })).claim(join(d, 'again.mkv'), { field: 'output_file' });
    expect(after.superseded?.reason).toBe('an earlier attempt of this job (w-3, worker w-3) held it');
    await next.discard();
    await after.discard();
  });

  it('two local runs of one job file (no server lease) are two writers: the second fails', async () => {
    const d = await folder();
    const target = join(d, 'out.mkv');
    await createOutputFiles(owner('job-L', 'l-1')).claim(target, { field: 'output_file' });
    const error = await rejection(createOutputFiles(owner('job-L', 'l-2')).claim(target, { field: 'output_file' }));
    expect(error.code).toBe(ErrorCodes.OUTPUT_CLAIMED);
  });

  it('a pid is evidence only in the same boot and PID namespace: a holder in another container with the same host name is not "gone"', async () => {
    const d = await folder();
    const target = join(d, 'ns.mkv');
    const gone = Number(execFileSync('sh', ['-c', 'echo $$']).toString().trim());
    await writeFile(claimPathFor(target), JSON.stringify({ target, job_id: 'job-NS', attempt: 'n-1', hostname: 'test-host', pid: gone, host_id: 'another-boot/pid:[1]', folder: '.sisyphus-tmp-000000000000', claimed_at: 'now' }));
    const error = await rejection(createOutputFiles(owner('job-Other')).claim(target, { field: 'output_file' }));
    expect(error.code).toBe(ErrorCodes.OUTPUT_CLAIMED);
  });

  it('a claim whose process is gone (same host) or that was not refreshed for 90 s is taken over', async () => {
    const d = await folder();
    const dead = join(d, 'dead.mkv');
    const gone = execFileSync('sh', ['-c', 'echo $$']).toString().trim();
    const crashed = await createOutputFiles(owner('job-X', 'x-1', { pid: Number(gone) })).claim(dead, { field: 'output_file' });
    expect((await readClaim(claimPathFor(dead)))?.record?.host_id).toMatch(/^[0-9a-f-]{36}\/pid:\[\d+\]$/);
    await writeFile(crashed.path, 'a partial encode of a crashed worker');
    const took = await createOutputFiles(owner('job-Y')).claim(dead, { field: 'output_file' });
    expect(took.superseded?.reason).toBe(`its holder (pid ${gone} on this host) is gone`);
    // Its partial output goes at once: nothing will ever write there again.
    expect(existsSync(crashed.folder!)).toBe(false);
    await took.discard();

    const stale = join(d, 'stale.mkv');
    await createOutputFiles(owner('job-P', 'p-1', { hostname: 'elsewhere' })).claim(stale, { field: 'output_file' });
    const old = new Date(Date.now() - 120_000);
    await utimes(claimPathFor(stale), old, old);
    const again = await createOutputFiles(owner('job-Q')).claim(stale, { field: 'output_file' });
    expect(again.superseded?.reason).toMatch(/^it was not refreshed for 1[12]\d s$/);
  });

  it('a holder killed but not yet reaped (a zombie) is gone: its claim is taken over at once', async () => {
    // `sleep 30 &` is a child of sh, which then becomes `sleep 60` and never reaps it: killed, it stays a zombie.
    const parent = spawn('sh', ['-c', 'sleep 30 & echo $!; exec sleep 60'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const pid = Number(await new Promise<string>((resolve) => parent.stdout!.once('data', (b: Buffer) => resolve(b.toString().trim()))));
      const start = processStartTicks(pid);
      const d = await folder();
      const target = join(d, 'zombie.mkv');
      await createOutputFiles(owner('job-Z', 'z-1', { pid })).claim(target, { field: 'output_file' });
      expect(processGone(processHostId(), pid, start)).toBe(false);
      process.kill(pid, 'SIGKILL');
      for (let i = 0; i < 100 && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z '); i++) await new Promise((r) => setTimeout(r, 20));
      expect(readFileSync(`/proc/${pid}/stat`, 'utf8')).toContain(') Z ');
      expect(processGone(processHostId(), pid, start)).toBe(true);
      const took = await createOutputFiles(owner('job-W')).claim(target, { field: 'output_file' });
      expect(took.superseded?.reason).toBe(`its holder (pid ${pid} on this host) is gone`);
      await took.discard();
    } finally {
      parent.kill('SIGKILL');
    }
  });

  it('without overwrite, a target that appeared meanwhile is never replaced: the result is kept and the task fails', async () => {
    const d = await folder();
    const target = join(d, 'out.mkv');
    const claim = await createOutputFiles(owner('job-K')).claim(target, { field: 'output_file', overwrite: false });
    await writeFile(claim.path, 'new');
    await writeFile(target, 'someone else');
    const error = await rejection(claim.promote());
    expect(error.message).toBe(`output_file: ${target} appeared while the task ran (it did not exist when this attempt claimed it; someone else wrote it since), and overwrite is false; the result is kept as ${claim.path}`);
    expect(await readFile(target, 'utf8')).toBe('someone else');
    expect(await readFile(claim.path, 'utf8')).toBe('new');
    expect(claim.state).toBe('kept');
    expect(existsSync(claimPathFor(target))).toBe(false);
  });

  it('an empty or missing result is not promoted; a verify hook can refuse; allowEmpty admits an empty copy', async () => {
    const d = await folder();
    const files = createOutputFiles(owner('job-E'));
    const empty = await files.claim(join(d, 'e.mkv'), { field: 'output_file' });
    await writeFile(empty.path, '');
    expect((await rejection(empty.promote())).message).toBe('output_file: e.mkv is empty (0 bytes); nothing was promoted');
    const missing = await files.claim(join(d, 'm.mkv'), { field: 'output_file' });
    expect((await rejection(missing.promote())).code).toBe(ErrorCodes.OUTPUT_UNVERIFIED);
    const refused = await files.claim(join(d, 'r.mkv'), { field: 'output_file' });
    await writeFile(refused.path, 'short');
    const error = await rejection(refused.promote(() => {
      throw new SisyphusError('r.mkv holds 3 of 10 frames', { code: ErrorCodes.OUTPUT_UNVERIFIED });
    }));
    expect(error.message).toBe('r.mkv holds 3 of 10 frames');
    const ok = await files.claim(join(d, 'copy.txt'), { field: 'copy[0].destination', allowEmpty: true });
    await writeFile(ok.path, '');
    await ok.promote();
    await files.settle();
    expect((await readdir(d)).sort()).toEqual(['copy.txt']);
  });

  it('a sequence lands together, named as written; a segment set puts the target-named playlist last', async () => {
    const d = await folder();
    const files = createOutputFiles(owner('job-S'));
    const seq = await files.claim(join(d, 'thumb_%03d.png'), { field: 'output_file', kind: 'sequence' });
    expect(seq.path.endsWith('/thumb_%03d.png')).toBe(true);
    for (const i of [1, 2, 3]) await writeFile(join(seq.folder!, `thumb_00${i}.png`), `frame ${i}`);
    expect(await seq.promote()).toEqual([1, 2, 3].map((i) => join(d, `thumb_00${i}.png`)));
    const hls = await files.claim(join(d, 'index.m3u8'), { field: 'output_file', kind: 'segments' });
    await writeFile(join(hls.folder!, 'index.m3u8'), '#EXTM3U\nindex0.ts\n');
    await writeFile(join(hls.folder!, 'index0.ts'), 'ts');
    expect((await hls.promote()).map((p) => p.slice(d.length + 1))).toEqual(['index0.ts', 'index.m3u8']);
    expect((await readdir(d)).sort()).toEqual(['index.m3u8', 'index0.ts', 'thumb_001.png', 'thumb_002.png', 'thumb_003.png']);
  });

  it('/dev/null and special files are written in place: nothing to claim, promote or remove', async () => {
    const d = await folder();
    const files = createOutputFiles(owner('job-N'));
    const nul = await files.claim('/dev/null', { field: 'output_file' });
    expect(nul.direct).toBe(true);
    expect(nul.path).toBe('/dev/null');
    await nul.promote();
    const fifo = join(d, 'pipe');
    execFileSync('mkfifo', [fifo]);
    const viaFifo = await files.claim(fifo, { field: 'output_file' });
    expect(viaFifo.direct).toBe(true);
    await files.settle();
    expect(await readdir(d)).toEqual(['pipe']);
    await checkOutputTarget('/dev/null', 'output_file');
  });

  it('settle() removes what a task did not promote, and only that', async () => {
    const d = await folder();
    await writeFile(join(d, 'keep.mkv'), 'old');
    const files = createOutputFiles(owner('job-D'));
    const claim = await files.claim(join(d, 'keep.mkv'), { field: 'output_file', overwrite: true });
    await writeFile(claim.path, 'half');
    await files.settle();
    expect(claim.state).toBe('discarded');
    expect(await readdir(d)).toEqual(['keep.mkv']);
    expect(await readFile(join(d, 'keep.mkv'), 'utf8')).toBe('old');
  });
});

describe('checkOutputTarget', () => {
  it('a missing folder, a file where a folder should be; createParents checks the nearest folder that exists', async () => {
    const d = await folder();
    await writeFile(join(d, 'file'), 'x');
    const cases: Array<[string, string]> = [
      [join(d, 'nope', 'out.mkv'), `output_file: the folder ${join(d, 'nope')} does not exist`],
      [join(d, 'file', 'out.mkv'), `output_file: ${join(d, 'file')} is not a folder`],
    ];
    for (const [target, message] of cases) expect((await rejection(checkOutputTarget(target, 'output_file'))).message).toBe(message);
    await checkOutputTarget(join(d, 'a', 'b', 'out.mkv'), 'move[0].destination', { createParents: true });
    expect(existsSync(join(d, 'a'))).toBe(false);
    expect(await readdir(d)).toEqual(['file']);
  });

  it('a read-only file system is found at validate, with its real cause', async () => {
    const ro = await folder();
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', ro]);
    try {
      expect((await rejection(checkOutputTarget(join(ro, 'out.mkv'), 'output_file'))).message).toBe(
        `output_file: cannot create files in ${ro}: read-only file system (EROFS)`,
      );
      expect((await rejection(checkOutputTarget(join(ro, 'new', 'deeper', 'out.mkv'), 'move[0].destination', { createParents: true }))).message).toBe(
        `move[0].destination: cannot create files in ${ro}: read-only file system (EROFS)`,
      );
    } finally {
      execFileSync('umount', [ro]);
    }
  });
});

describe('file identity', () => {
  it('one file through a symlinked folder, a hard link, or itself is the same file; a copy is not', async () => {
    const d = await folder();
    await mkdir(join(d, 'real'));
    await writeFile(join(d, 'real', 'a.mkv'), 'a');
    await symlink(join(d, 'real'), join(d, 'library'));
    await link(join(d, 'real', 'a.mkv'), join(d, 'real', 'hard.mkv'));
    await writeFile(join(d, 'real', 'copy.mkv'), 'a');
    expect(await isSameFile(join(d, 'library', 'a.mkv'), join(d, 'real', 'a.mkv'))).toBe(true);
    expect(await isSameFile(join(d, 'real', 'hard.mkv'), join(d, 'library', 'a.mkv'))).toBe(true);
    expect(await isSameFile(join(d, 'real', 'copy.mkv'), join(d, 'real', 'a.mkv'))).toBe(false);
    expect(await isSameFile(join(d, 'library', 'new.mkv'), join(d, 'real', 'new.mkv'))).toBe(true);
  });
});
