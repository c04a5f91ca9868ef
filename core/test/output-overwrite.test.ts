import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, writeFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ErrorCodes,
  RunError,
  TOKENS,
  Type,
  defineModule,
  inject,
  injectable,
  type OutputFiles,
  type PathGuard,
  type ProcessRunner,
  type ProgressReporter,
  type Static,
} from '@sisyphus/core';
import { createTestFolder, phaseTrail, runTask, type TestFolder } from '@sisyphus/core/testing';

// The guide's DI example, as a new user writes it: `check` at validate and
// `claim(target, { field })` at run, no stat of its own. The "tool" is a real
// child process that leaves a marker outside the folder when it runs.
const Schema = Type.Object({
  input: Type.String(),
  output: Type.String(),
  codec: Type.Union([Type.Literal('mpeg4'), Type.Literal('libx264')]),
  overwrite: Type.Optional(Type.Boolean()),
  /** How `check` is called: without options (the repro), or with the overwrite `claim` gets. */
  check_overwrite: Type.Optional(Type.Boolean()),
  /** What the run does after the tool: promote, promote with a verify that refuses, or adopt a file. */
  finish: Type.Optional(Type.Union([Type.Literal('promote'), Type.Literal('refuse'), Type.Literal('adopt')])),
});
type Data = Static<typeof Schema>;

let markers = '';
const TOOL = `const fs = require('node:fs'); fs.writeFileSync(process.argv[1], process.argv[2]); fs.appendFileSync(process.argv[3], 'ran\\n');`;

@injectable()
class TranscodeTask {
  #output = '';
  constructor(
    @inject(TOKENS.TaskData) private readonly data: Data,
    @inject(TOKENS.PathGuard) private readonly paths: PathGuard,
    @inject(TOKENS.OutputFiles) private readonly files: OutputFiles,
    @inject(TOKENS.ProcessRunner) private readonly runner: ProcessRunner,
    @inject(TOKENS.Progress) private readonly progress: ProgressReporter,
  ) {}

  async validate() {
    await this.paths.check(this.data.input, 'input');
    this.#output = await this.paths.check(this.data.output, 'output');
    const { check_overwrite } = this.data;
    await this.files.check(this.#output, 'output', check_overwrite === undefined ? {} : { overwrite: check_overwrite });
  }

  async run() {
    const claim = await this.files.claim(this.#output, { field: 'output', overwrite: this.data.overwrite ?? false });
    const written = this.data.finish === 'adopt' ? `${claim.path}.src` : claim.path;
    await this.runner.run(process.execPath, ['-e', TOOL, written, `encoded ${this.data.codec}`, join(markers, 'tool-ran')]);
    this.progress.report({ percent: 50 }); // the test's "someone else" may write the target now
    if (this.data.finish === 'adopt') await claim.adopt(written);
    else await claim.promote(() => {
      if (this.data.finish === 'refuse') throw new RunError('output: the encode is truncated', { code: ErrorCodes.OUTPUT_UNVERIFIED });
    });
  }
}
const transcode = defineModule({ name: 'transcode', schema: Schema, task: TranscodeTask });

let folder: TestFolder;
beforeEach(async () => {
  folder = await createTestFolder({ files: { 'in.mp4': 'source', 'out.mkv': 'the old result' } });
  markers = await mkdtemp(join(tmpdir(), 'sis-markers-'));
});
afterEach(async () => {
  await folder.remove();
  await rm(markers, { recursive: true, force: true });
});
const toolRan = () => existsSync(join(markers, 'tool-ran'));

describe('an output that exists without overwrite', () => {
  it('is refused at claim, before the tool runs, with a true message and nothing left behind (check without overwrite)', async () => {
    const target = folder.resolve('out.mkv');
    const run = await runTask(transcode, { input: 'in.mp4', output: 'out.mkv', codec: 'mpeg4' }, { folder });
    expect(run.result.completed).toBe(false);
    expect(run.result.code).toBe(ErrorCodes.RUN);
    expect(run.result.message).toBe(`output: ${target} exists and overwrite is false; nothing was written`);
    expect(phaseTrail(run)).toContain('run:failed');
    expect(toolRan()).toBe(false);
    expect(await folder.readText('out.mkv')).toBe('the old result');
    expect(await folder.leftovers()).toEqual([]);
    expect(await folder.list()).toEqual(['in.mp4', 'out.mkv']);
  });

  it('is refused at validate when the module passes its overwrite to check', async () => {
    const target = folder.resolve('out.mkv');
    const run = await runTask(transcode, { input: 'in.mp4', output: 'out.mkv', codec: 'mpeg4', check_overwrite: false }, { folder });
    expect(run.result.code).toBe(ErrorCodes.VALIDATION);
    expect(run.result.message).toBe(`output: ${target} exists and overwrite is false`);
    expect(phaseTrail(run).at(-1)).toBe('validate:failed');
    expect(toolRan()).toBe(false);
    expect(await folder.list()).toEqual(['in.mp4', 'out.mkv']);
  });

  it('is replaced with overwrite (check and claim told so)', async () => {
    const run = await runTask(transcode, { input: 'in.mp4', output: 'out.mkv', codec: 'libx264', overwrite: true, check_overwrite: true }, { folder });
    expect(run.result.completed, run.result.message).toBe(true);
    expect(await folder.readText('out.mkv')).toBe('encoded libx264');
    expect(await folder.list()).toEqual(['in.mp4', 'out.mkv']);
  });
});

describe('an output someone else writes while the task runs', () => {
  it('is never replaced: the result is kept, the message says it appeared during the run and where the result is', async () => {
    const target = folder.resolve('new.mkv');
    const run = await runTask(transcode, { input: 'in.mp4', output: 'new.mkv', codec: 'mpeg4', check_overwrite: false }, {
      folder,
      onProgress: () => writeFileSync(target, 'someone else'),
    });
    expect(toolRan()).toBe(true);
    expect(run.result.code).toBe(ErrorCodes.RUN);
    const kept = await folder.leftovers();
    expect(kept).toEqual([expect.stringMatching(/^\.sisyphus-tmp-[0-9a-f]{12}\/$/), expect.stringMatching(/^\.sisyphus-tmp-[0-9a-f]{12}\/new\.mkv$/)]);
    const keptAs = folder.resolve(kept[1]!);
    expect(run.result.message).toBe(
      `output: ${target} appeared while the task ran (it did not exist when this attempt claimed it; someone else wrote it since), and overwrite is false; the result is kept as ${keptAs}`,
    );
    expect(await folder.readText('new.mkv')).toBe('someone else');
    expect(await readFile(keptAs, 'utf8')).toBe('encoded mpeg4');
  });

  it('with adopt: the source is not moved, the message says why, and nothing is left behind', async () => {
    const target = folder.resolve('new.mkv');
    const run = await runTask(transcode, { input: 'in.mp4', output: 'new.mkv', codec: 'mpeg4', finish: 'adopt' }, {
      folder,
      onProgress: () => writeFileSync(target, 'someone else'),
    });
    expect(run.result.code).toBe(ErrorCodes.RUN);
    expect(run.result.message).toMatch(new RegExp(`^output: ${target.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} appeared while the task ran .*, and overwrite is false; .*\\.src was not moved$`));
    expect(await folder.readText('new.mkv')).toBe('someone else');
    expect(await folder.leftovers()).toEqual([]);
  });
});

describe('a refused promotion', () => {
  it('leaves nothing behind: no attempt folder, no claim, no file under the final name', async () => {
    const run = await runTask(transcode, { input: 'in.mp4', output: 'new.mkv', codec: 'mpeg4', finish: 'refuse' }, { folder });
    expect(toolRan()).toBe(true);
    expect(run.result.code).toBe(ErrorCodes.OUTPUT_UNVERIFIED);
    expect(await folder.leftovers()).toEqual([]);
    expect(await folder.list()).toEqual(['in.mp4', 'out.mkv']);
  });
});
