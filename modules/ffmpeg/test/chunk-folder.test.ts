/**
 * Whose chunk folder is whose: every plan makes its own folder, two runs of
 * one job id never remove or fill each other's, a second live local run
 * writing the same output is refused at once, and only a folder whose run
 * is surely gone is swept.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmod, chown, copyFile, mkdir, mkdtemp, readFile, readdir, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { execa } from 'execa';
import { ErrorCodes, createEngine, createMemoryDataStore, processHostId, processStartTicks, treeRemoval, type JobResult } from '@sisyphus/core';
import ffmpegPlugin from '@sisyphus/module-ffmpeg';
import cleanupPlugin from '@sisyphus/module-cleanup';
import { CHUNK_OWNER_FILE, chunkFolder, type ChunkFolderOwner } from '../src/chunking/chunk-folder.js';
import { frameHashes, makeScenes } from './chunk-media.js';

let dir = '';
let scenes = '';
const dataStore = createMemoryDataStore({ ffmpeg: { lossless: { options: { codec: 'libx264', preset: 'ultrafast', qp: 0 } } } });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sis-chunk-folder-'));
  scenes = join(dir, 'scenes.mkv');
  await makeScenes(scenes);
}, 60_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const job = (out: string, jobId: string) => ({
  job_title: 'film',
  job_id: jobId,
  tasks: [
    {
      module: 'ffmpeg',
      data: {
        sources: [scenes],
        source_maps: [{ source: 0, specifier: 'v' }, { source: 0, specifier: 'a' }],
        output_maps: [{ specifier: 'v', stream: 0, option_set: 'lossless' }, { specifier: 'a', options: { codec: 'aac', b: '96k' } }],
        output_file: join(out, 'film.mkv'),
        chunking: { seconds: 2.7, cut: 'scene' },
      },
    },
  ],
});

function engineWithLogs() {
  const engine = createEngine({ plugins: [ffmpegPlugin, cleanupPlugin], dataStore });
  const logs: string[] = [];
  engine.on('log', (e) => logs.push(e.message));
  return { engine, logs };
}

/** The pid of a process that has ended (a `true` that exited). */
async function deadPid(): Promise<number> {
  const child = spawn('true');
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid!;
}

/** A chunk folder beside `out/film.mkv` as a run of `jobId` would leave it, with a chunk file and, unless `owner` is null, its record. */
async function plant(out: string, jobId: string, token: string, owner: Partial<ChunkFolderOwner> | null): Promise<string> {
  const folder = chunkFolder(join(out, 'film.mkv'), jobId, token);
  await mkdir(folder);
  await writeFile(join(folder, 'chunk-00000.nut'), 'chunk');
  const record: ChunkFolderOwner = { job_id: jobId, output: 'film.mkv', hostname: 'here', pid: process.pid, host_id: processHostId(), inline: true, phase: 'children', created_at: new Date(Date.now() - 60_000).toISOString(), ...owner };
  // As a run writes it: with its process's start time (a dead one's: any).
  if (owner && !('pid_start' in owner)) record.pid_start = (Number.isInteger(record.pid) && record.pid > 0 && processStartTicks(record.pid)) || '1';
  if (owner) await writeFile(join(folder, CHUNK_OWNER_FILE), JSON.stringify(record));
  return folder;
}

async function until<T>(what: string, check: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('chunk folders: one per plan, never another run\'s', () => {
  it('two local runs of one job file at once: the second is refused at once (SIS_OUTPUT_CLAIMED, naming the first), the first is untouched and completes', async () => {
    const out = await mkdtemp(join(dir, 'out-'));
    const first = engineWithLogs();
    const second = engineWithLogs();
    const running = first.engine.run(job(out, 'film-1'));
    // The second starts while the first's chunks are being encoded in its folder.
    const folder = await until('the first run\'s chunk folder with a chunk in it', async () => {
      const name = (await readdir(out)).find((n) => n.startsWith('.sisyphus-chunks-film-1.'));
      return name && (await readdir(join(out, name))).some((n) => n.startsWith('chunk-')) ? join(out, name) : undefined;
    });
    const refused = await second.engine.run(job(out, 'film-1'));
    expect(refused).toMatchObject({ completed: false, code: ErrorCodes.OUTPUT_CLAIMED, phase: 'run' });
    expect(refused.message).toMatch(/^output_file: another run of job film-1 \(this process, since \d{4}-\d\d-\d\dT[\d:.]+Z\) is encoding \S+film\.mkv in chunks, in \S+\.sisyphus-chunks-film-1\.[0-9a-f]{12}$/);
    expect(refused.message).toContain(folder);
    const done: JobResult = await running;
    expect(done.completed, done.message).toBe(true);
    expect(await readdir(out)).toEqual(['film.mkv']);
    expect(await frameHashes(join(out, 'film.mkv'))).toEqual(await frameHashes(scenes));
  }, 120_000);

  it('two local runs of one job file started together: one completes, the other is refused as a second writer; no chunk folder is left', async () => {
    const out = await mkdtemp(join(dir, 'out-'));
    const results = await Promise.all([engineWithLogs().engine.run(job(out, 'film-4')), engineWithLogs().engine.run(job(out, 'film-4'))]);
    expect(results.filter((r) => r.completed).length, results.map((r) => r.message).join('; ')).toBe(1);
    const refused = results.find((r) => !r.completed)!;
    // Refused at the plan (normally), or by the output's claim or existence at its join.
    expect(refused.message).toMatch(/^output_file: (another run of job film-4 \(this process|\S+film\.mkv (is being written by|exists and overwrite is false))/);
    expect(await readdir(out)).toEqual(['film.mkv']);
    expect(await frameHashes(join(out, 'film.mkv'))).toEqual(await frameHashes(scenes));
  }, 120_000);

  it('a live local run in another process of this host holds its folder; once that process is gone, the folder is a leftover the next run removes', async () => {
    const out = await mkdtemp(join(dir, 'out-'));
    const sleeper = spawn('sleep', ['60']);
    try {
      const folder = await plant(out, 'film-2', 'aaaaaaaaaaaa', { pid: sleeper.pid!, inline: true, phase: 'children' });
      const { engine } = engineWithLogs();
      const refused = await engine.run(job(out, 'film-2'));
      expect(refused).toMatchObject({ completed: false, code: ErrorCodes.OUTPUT_CLAIMED });
      expect(refused.message).toBe(`output_file: another run of job film-2 (pid ${sleeper.pid} on this host, since ${JSON.parse(await readFile(join(folder, CHUNK_OWNER_FILE), 'utf8')).created_at}) is encoding ${join(out, 'film.mkv')} in chunks, in ${folder}`);
      // Nothing of the refused run is left, and the other run's folder is as it was.
      expect((await readdir(out)).sort()).toEqual([folder.slice(out.length + 1)]);
      expect((await readdir(folder)).sort()).toEqual(['chunk-00000.nut', CHUNK_OWNER_FILE]);
    } finally {
      sleeper.kill('SIGKILL');
      await new Promise((resolve) => (sleeper.exitCode !== null || sleeper.signalCode !== null ? resolve(null) : sleeper.on('exit', resolve)));
    }
    const { engine, logs } = engineWithLogs();
    const done = await engine.run(job(out, 'film-2'));
    expect(done.completed, done.message).toBe(true);
    expect(await readdir(out)).toEqual(['film.mkv']);
    expect(logs.some((l) => /^removed \S+\.sisyphus-chunks-film-2\.aaaaaaaaaaaa: chunks of an earlier run of this job or this output whose process is gone$/.test(l)), logs.join('\n')).toBe(true);
  }, 120_000);

  it('sweeps only what is surely abandoned: a dead process of this host\'s inline run or unfinished plan, of this job or of another writing this output; never chunks handed to a server, another host\'s, an unreadable record, another output\'s or a link', async () => {
    const out = await mkdtemp(join(dir, 'out-'));
    const dead = await deadPid();
    const gone = {
      inline: await plant(out, 'film-3', '000000000001', { pid: dead, inline: true, phase: 'children' }),
      plan: await plant(out, 'film-3', '000000000002', { pid: dead, inline: false, phase: 'plan' }),
      // This process's pid proves nothing; its set of folders in use does (this one is not in it).
      thisProcessDone: await plant(out, 'film-3', '000000000009', { pid: process.pid, inline: true, phase: 'children' }),
      // A killed local run of a job file without job_id (a new id each run): found by the output its record names.
      otherJobThisOutput: await plant(out, 'film-30', '000000000006', { pid: dead, inline: true, phase: 'children' }),
    };
    const kept = {
      handedToServer: await plant(out, 'film-3', '000000000003', { pid: dead, inline: false, phase: 'children' }),
      otherHost: await plant(out, 'film-3', '000000000004', { pid: dead, inline: true, phase: 'plan', host_id: 'another-boot/pid:[4026531836]' }),
      noRecord: await plant(out, 'film-3', '000000000005', null),
      otherJobHandedToServer: await plant(out, 'film-33', '000000000016', { pid: dead, inline: false, phase: 'children' }),
      otherOutput: await plant(out, 'film-30', '000000000012', { pid: dead, inline: true, phase: 'plan', output: 'other.mkv' }),
      // A record whose job is not the one the folder is named for: not judged by it.
      nameNotItsJob: await plant(out, 'film-31', '000000000013', { pid: dead, inline: true, phase: 'plan', job_id: 'film-32' }),
      notAChunkName: await plant(out, 'film-3', 'not-a-token', { pid: dead, inline: true, phase: 'plan' }),
    };
    // A link named like a chunk folder, to a folder whose record says leftover: the link is no chunk folder, the folder it names is untouched.
    const elsewhere = await plant(await mkdtemp(join(dir, 'elsewhere-')), 'film-3', '000000000007', { pid: dead, inline: true, phase: 'plan' });
    const link = chunkFolder(join(out, 'film.mkv'), 'film-3', '000000000008');
    await symlink(elsewhere, link);

    const { engine, logs } = engineWithLogs();
    const done = await engine.run(job(out, 'film-3'));
    expect(done.completed, done.message).toBe(true);
    for (const [what, folder] of Object.entries(gone)) expect(existsSync(folder), what).toBe(false);
    for (const [what, folder] of Object.entries(kept)) expect(await readdir(folder), what).toContain('chunk-00000.nut');
    expect(await readdir(elsewhere)).toContain('chunk-00000.nut');
    expect(existsSync(link)).toBe(true);
    expect(logs.filter((l) => l.startsWith('removed ')).length, logs.join('\n')).toBe(4);
    // This job's and this output's folders it left alone are named in the log, with why (another host's would otherwise stay unnoticed).
    expect(logs.filter((l) => l.startsWith('left ')).length, logs.join('\n')).toBe(4);
    expect(logs, logs.join('\n')).toContain(`left ${kept.otherJobHandedToServer} alone: its run may still use it (pid ${dead} on this host, handed to a server: children) (remove it by hand once no run of job film-33 uses it)`);
    expect(logs.some((l) => l.startsWith(`left ${kept.otherHost} alone: its run may still use it (pid ${dead} on here, another host or boot, a local run)`)), logs.join('\n')).toBe(true);
    expect(existsSync(join(out, 'film.mkv'))).toBe(true);
  }, 120_000);

  it('records that cannot be trusted are never opened blocking, never judged and never block: a FIFO, a link to /dev/zero, pids 0, -1 and 1.5, no start time, a control character, an odd time', async () => {
    const out = await mkdtemp(join(dir, 'out-'));
    const fifo = await plant(out, 'film-5', '00000000000a', null);
    await execa('mkfifo', [join(fifo, CHUNK_OWNER_FILE)]);
    const endless = await plant(out, 'film-5', '00000000000b', null);
    await symlink('/dev/zero', join(endless, CHUNK_OWNER_FILE));
    const odd = [];
    for (const [i, pid] of [0, -1, 1.5].entries()) odd.push(await plant(out, 'film-5', `00000000000${'cde'[i]}`, { pid, inline: true, phase: 'plan' }));
    // A live pid of this host without its start time (every record a run of this host writes has one), a control character, a time not as written.
    odd.push(await plant(out, 'film-5', '00000000000f', { pid: 1, pid_start: undefined, inline: true }));
    odd.push(await plant(out, 'film-5', '000000000010', { pid: 1, job_id: 'film-5\n[error] forged', inline: true }));
    odd.push(await plant(out, 'film-5', '000000000011', { pid: 1, created_at: '', inline: true }));
    const { engine, logs } = engineWithLogs();
    const done = await engine.run(job(out, 'film-5'));
    expect(done.completed, done.message).toBe(true);
    for (const folder of [fifo, endless, ...odd]) {
      expect(await readdir(folder)).toContain('chunk-00000.nut');
      expect(logs, folder).toContain(`left ${folder} alone: it has no readable owner.json (remove it by hand once no run of this job uses it)`);
    }
  }, 120_000);

  it('a pid given again to another process is not the run that planned: with another start time the folder is a leftover', async () => {
    const out = await mkdtemp(join(dir, 'out-'));
    const sleeper = spawn('sleep', ['60']);
    try {
      const start = processStartTicks(sleeper.pid!)!;
      expect(start).toMatch(/^\d+$/);
      const reused = await plant(out, 'film-6', '000000000001', { pid: sleeper.pid!, pid_start: String(Number(start) - 1), inline: true });
      const { engine, logs } = engineWithLogs();
      const done = await engine.run(job(out, 'film-6'));
      expect(done.completed, done.message).toBe(true);
      expect(existsSync(reused)).toBe(false);
      expect(logs.some((l) => l.startsWith(`removed ${reused}:`)), logs.join('\n')).toBe(true);
      // The same pid with its own start time: the run is alive, and this one is refused.
      await plant(out, 'film-6', '000000000002', { pid: sleeper.pid!, pid_start: start, inline: true });
      await rm(join(out, 'film.mkv'));
      expect(await engine.run(job(out, 'film-6'))).toMatchObject({ completed: false, code: ErrorCodes.OUTPUT_CLAIMED });
    } finally {
      sleeper.kill('SIGKILL');
    }
  }, 120_000);

  it('a leftover is removed by folder handles even where others may write (a shared output folder, a group-writable folder in it); another user\'s is kept', async () => {
    expect(await treeRemoval()).toBe('fd-relative');
    const out = await mkdtemp(join(dir, 'out-'));
    const dead = await deadPid();
    const theirs = await plant(out, 'film-10', '000000000001', { pid: dead, inline: true });
    await chown(theirs, 65534, 65534);
    const shared = await plant(out, 'film-10', '000000000002', { pid: dead, inline: true });
    await mkdir(join(shared, 'd'));
    await chmod(join(shared, 'd'), 0o777);
    const { engine, logs } = engineWithLogs();
    const done = await engine.run(job(out, 'film-10'));
    expect(done.completed, done.message).toBe(true);
    expect(logs).toContain(`left ${theirs} alone: ${theirs} belongs to another user (uid 65534) (remove it by hand once no run of this job uses it)`);
    expect(await readdir(theirs)).toContain('chunk-00000.nut');
    expect(await readdir(out)).not.toContain(basename(shared));
    // In an output folder anyone may rename entries in (not sticky), a leftover is removed too: nothing there can make
    // the removal leave its tree (core/test/remove-tree.test.ts races it).
    const open = await mkdtemp(join(dir, 'open-'));
    await chmod(open, 0o777);
    const left = await plant(open, 'film-10', '000000000003', { pid: dead, inline: true });
    const second = engineWithLogs();
    expect((await second.engine.run(job(open, 'film-10'))).completed).toBe(true);
    expect(await readdir(open)).not.toContain(basename(left));
  }, 120_000);

  it('a leftover holding a file the task reads is kept (a source, a file an option names)', async () => {
    const out = await mkdtemp(join(dir, 'out-'));
    const folder = await plant(out, 'film-7', '000000000001', { pid: await deadPid(), inline: true });
    await copyFile(scenes, join(folder, 'source.mkv'));
    const { engine, logs } = engineWithLogs();
    const read = job(out, 'film-7');
    read.tasks[0]!.data.sources = [join(folder, 'source.mkv')];
    const done = await engine.run(read);
    expect(done.completed, done.message).toBe(true);
    expect(await readdir(folder)).toContain('source.mkv');
    const held = join(await realpath(folder), 'source.mkv');
    expect(logs.some((l) => l.startsWith(`left ${folder} alone: it holds ${held}, which this task reads`)), logs.join('\n')).toBe(true);
    // A file named in an option value (a 3D LUT for the lut3d filter), in another leftover.
    const lutFolder = await plant(out, 'film-7', '000000000002', { pid: await deadPid(), inline: true });
    const lut = join(lutFolder, 'look.cube');
    await writeFile(lut, ['LUT_3D_SIZE 2', ...[0, 1].flatMap((b) => [0, 1].flatMap((g) => [0, 1].map((r) => `${r} ${g} ${b}`)))].join('\n') + '\n');
    const graded = job(out, 'film-7');
    graded.tasks[0]!.data.output_maps[0] = { specifier: 'v', stream: 0, options: { codec: 'libx264', preset: 'ultrafast', qp: 0, vf: `lut3d=file=${lut}` } } as never;
    await rm(join(out, 'film.mkv'));
    const second = engineWithLogs();
    const graded_ = await second.engine.run(graded);
    expect(graded_.completed, graded_.message).toBe(true);
    expect(await readdir(lutFolder)).toContain('look.cube');
    const heldLut = join(await realpath(lutFolder), 'look.cube');
    expect(second.logs.some((l) => l.startsWith(`left ${lutFolder} alone: it holds ${heldLut}, which this task reads`)), second.logs.join('\n')).toBe(true);
    // A source named through a link in a leftover (the file itself is elsewhere): the task reads it by that name, so the
    // folder stays (a review found it removed, and the job failing at its join: the source no longer there).
    const linkFolder = await plant(out, 'film-7', '000000000003', { pid: await deadPid(), inline: true });
    await symlink(scenes, join(linkFolder, 'link.mkv'));
    const linked = job(out, 'film-7');
    linked.tasks[0]!.data.sources = [join(linkFolder, 'link.mkv')];
    await rm(join(out, 'film.mkv'));
    const third = engineWithLogs();
    const linked_ = await third.engine.run(linked);
    expect(linked_.completed, linked_.message).toBe(true);
    expect(await readdir(linkFolder)).toContain('link.mkv');
    expect(third.logs.some((l) => l.startsWith(`left ${linkFolder} alone: it holds ${join(linkFolder, 'link.mkv')}, which this task reads`)), third.logs.join('\n')).toBe(true);
  }, 120_000);

  it('a live local run of another job id: refused when it writes the same output, not when it writes another', async () => {
    const out = await mkdtemp(join(dir, 'out-'));
    const sleeper = spawn('sleep', ['60']);
    try {
      const other = await plant(out, 'someone-else', '000000000001', { pid: sleeper.pid!, inline: true });
      const { engine } = engineWithLogs();
      const refused = await engine.run(job(out, 'film-8'));
      expect(refused).toMatchObject({ completed: false, code: ErrorCodes.OUTPUT_CLAIMED });
      expect(refused.message).toMatch(new RegExp(`^output_file: another run of job someone-else \\(pid ${sleeper.pid} on this host, since `));
      expect(refused.message).toContain(other);
      await writeFile(join(other, CHUNK_OWNER_FILE), JSON.stringify({ ...JSON.parse(await readFile(join(other, CHUNK_OWNER_FILE), 'utf8')), output: 'trailer.mkv' }));
      const done = await engine.run(job(out, 'film-8'));
      expect(done.completed, done.message).toBe(true);
      expect(await readdir(other)).toContain('chunk-00000.nut');
    } finally {
      sleeper.kill('SIGKILL');
    }
  }, 120_000);

  it('a run that failed in its chunks, in a long-lived process without the cleanup module: its folder does not block the next run of the job there; the failed finally job is logged', async () => {
    const out = await mkdtemp(join(dir, 'out-'));
    const engine = createEngine({ plugins: [ffmpegPlugin], dataStore });
    const logs: string[] = [];
    engine.on('log', (e) => logs.push(`${e.jobId}: ${e.message}`));
    const broken = job(out, 'film-9');
    broken.tasks[0]!.data.output_maps[0] = { specifier: 'v', stream: 0, options: { codec: 'libx264', preset: 'warp-speed' } } as never;
    const failed = await engine.run(broken);
    expect(failed.completed).toBe(false);
    expect(logs.some((l) => /^film-9: its finally job \(film \(remove the chunks\)\) failed: .*cleanup.*; what its children wrote may be left$/.test(l)), logs.join('\n')).toBe(true);
    const done = await engine.run(job(out, 'film-9'));
    expect(done.completed, done.message).toBe(true);
  }, 120_000);
});
