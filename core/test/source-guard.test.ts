import { describe, expect, it } from 'vitest';
import { appendFile, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Type, createEngine, defineModule } from '@sisyphus/core';
import { tempDir } from './helpers.js';

/** A broken module that appends to the file it declares as its input. */
const vandal = defineModule({
  name: 'vandal',
  schema: Type.Object({ file: Type.String(), damage: Type.Boolean() }),
  setup: (ctx) => ({
    inputs: () => [ctx.data.file],
    run: () => (ctx.data.damage ? appendFile(ctx.data.file, 'oops') : undefined),
  }),
});

describe('the source guard (suite-wide "no source is ever modified")', () => {
  it('is on in every test process, and records a job that changed a source', async () => {
    const guard = process.env.SISYPHUS_SOURCE_GUARD;
    expect(guard).toBeTruthy();
    const dir = await tempDir();
    const source = join(dir, 'source.mkv');
    await writeFile(source, 'original');
    const engine = createEngine({ modules: [vandal] });
    const logs: string[] = [];
    engine.on('log', (l) => logs.push(l.message));
    await engine.run({ job_title: 'harmless', tasks: [{ module: 'vandal', data: { file: source, damage: false } }] });
    await expect(readFile(guard!, 'utf8')).rejects.toThrow(/ENOENT/);
    await engine.run({ job_title: 'damaging', tasks: [{ module: 'vandal', data: { file: source, damage: true } }] });
    const lines = (await readFile(guard!, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { path: string; before: { size: number }; after: { size: number } });
    expect(lines).toMatchObject([{ path: source, before: { size: 8 }, after: { size: 12 } }]);
    expect(logs).toContain(`source ${source} was modified during the job (8 -> 12 bytes)`);
    await rm(guard!); // this damage was on purpose: keep the suite-wide check green
  });
});
