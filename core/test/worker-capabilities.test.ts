import { describe, expect, it } from 'vitest';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, Type, defineModule, detectBinaryVersion, type DetectContext } from '@sisyphus/core';
import { capabilityList, detectGpus, detectWorkerCapabilities, readWorkerCapabilities, resolveWorkerSettings } from '@sisyphus/core/worker';
import { loadConfig } from '@sisyphus/core/config';
import { tempDir } from './helpers.js';

const data = Type.Object({}, { additionalProperties: true });
const noop = () => ({ run: () => undefined });

describe('capabilityList', () => {
  it('flattens to sorted unique kind:value strings, tags in lower case', () => {
    expect(
      capabilityList({
        modules: ['ffmpeg', 'cleanup', 'ffmpeg'],
        binaries: { ffmpeg: '5.1.6', ffprobe: '5.1.6' },
        encoders: ['libx264', 'hevc_nvenc'],
        hwaccels: ['cuda'],
        gpus: ['nvidia'],
        tags: ['GPU', 'fast-disk', 'gpu'],
      }),
    ).toEqual([
      'binary:ffmpeg',
      'binary:ffprobe',
      'encoder:hevc_nvenc',
      'encoder:libx264',
      'gpu:nvidia',
      'hwaccel:cuda',
      'module:cleanup',
      'module:ffmpeg',
      'tag:fast-disk',
      'tag:gpu',
    ]);
  });

  it('takes untrusted input (a heartbeat body) without throwing: what is not a list of names is skipped', () => {
    const hostile = { modules: 'ffmpeg', binaries: { ffmpeg: 5, ffprobe: '5.1' }, encoders: [1, null, 'libx264', ''], tags: { a: 1 }, gpus: ['x'.repeat(201)] };
    expect(capabilityList(hostile as never)).toEqual(['binary:ffprobe', 'encoder:libx264']);
    expect(readWorkerCapabilities('nope')).toBeUndefined();
    expect(readWorkerCapabilities([])).toBeUndefined();
    expect(readWorkerCapabilities({})).toEqual({ modules: [], binaries: {}, encoders: [], hwaccels: [], gpus: [], tags: [] });
  });
});

describe('detectGpus', () => {
  it('finds NVIDIA device nodes and DRM render nodes with their vendor, from /dev and /sys', async () => {
    const root = await tempDir();
    const dev = join(root, 'dev');
    const sys = join(root, 'sys');
    await mkdir(join(dev, 'dri'), { recursive: true });
    for (const name of ['nvidia1', 'nvidia0', 'nvidiactl', 'nvidia-uvm', 'null']) await writeFile(join(dev, name), '');
    for (const name of ['renderD129', 'renderD128', 'renderD130', 'renderD131', 'card0']) await writeFile(join(dev, 'dri', name), '');
    for (const [node, vendor] of [['renderD128', '0x8086\n'], ['renderD129', '0x1002\n'], ['renderD130', '0x1AF4\n']] as const) {
      await mkdir(join(sys, 'class', 'drm', node, 'device'), { recursive: true });
      await writeFile(join(sys, 'class', 'drm', node, 'device', 'vendor'), vendor);
    }
    const gpus = await detectGpus({ devDir: dev, sysDir: sys });
    expect(gpus).toEqual([
      { vendor: 'nvidia', path: join(dev, 'nvidia0'), kind: 'nvidia' },
      { vendor: 'nvidia', path: join(dev, 'nvidia1'), kind: 'nvidia' },
      { vendor: 'intel', path: join(dev, 'dri', 'renderD128'), kind: 'dri' },
      { vendor: 'amd', path: join(dev, 'dri', 'renderD129'), kind: 'dri' },
      { vendor: '0x1af4', path: join(dev, 'dri', 'renderD130'), kind: 'dri' },
      { vendor: 'unknown', path: join(dev, 'dri', 'renderD131'), kind: 'dri' },
    ]);
    const caps = await detectWorkerCapabilities({ modules: [], gpus });
    expect(caps.gpus).toEqual(['0x1af4', 'amd', 'intel', 'nvidia']);
  });

  it('finds nothing (and does not fail) where there are no devices', async () => {
    const root = await tempDir();
    expect(await detectGpus({ devDir: join(root, 'missing'), sysDir: join(root, 'missing') })).toEqual([]);
  });
});

describe('detectWorkerCapabilities', () => {
  it('collects every module: names, binaries from detect hooks (a real program), tags; a missing binary is absent', async () => {
    const seen: Array<DetectContext<unknown>> = [];
    const node = defineModule({
      name: 'noder',
      schema: data,
      settingsSchema: Type.Object({ node: Type.Optional(Type.String()) }),
      setup: noop,
      detect: async (ctx) => {
        seen.push(ctx as DetectContext<unknown>);
        const [version, missing] = await Promise.all([
          detectBinaryVersion(ctx, 'node', { configured: ctx.settings.node }),
          detectBinaryVersion(ctx, 'sisyphus-no-such-binary'),
        ]);
        return { binaries: { ...(version ? { node: version } : {}), ...(missing ? { missing } : {}) }, encoders: ['fake_enc'] };
      },
    });
    const plain = defineModule({ name: 'plain', schema: data, setup: noop });
    const caps = await detectWorkerCapabilities({
      modules: [plain, node],
      settings: { noder: { node: process.execPath } },
      tags: ['GPU', 'fast-disk'],
      gpus: [],
    });
    expect(caps).toEqual({
      modules: ['noder', 'plain'],
      binaries: { node: process.versions.node },
      encoders: ['fake_enc'],
      hwaccels: [],
      gpus: [],
      tags: ['fast-disk', 'gpu'],
    });
    expect(seen[0]!.settings).toEqual({ node: process.execPath });
    expect(seen[0]!.timeoutMs).toBe(15_000);
  });

  it('a hook that throws or never answers contributes nothing, logged; the others still count', async () => {
    const warnings: string[] = [];
    const logger = { debug: () => undefined, info: () => undefined, warn: (m: string) => warnings.push(m), error: () => undefined };
    let aborted = false;
    const hangs = defineModule({
      name: 'hangs',
      schema: data,
      setup: noop,
      detect: (ctx) =>
        new Promise(() => {
          ctx.signal.addEventListener('abort', () => (aborted = true));
        }),
    });
    const throws = defineModule({ name: 'throws', schema: data, setup: noop, detect: () => { throw new Error('boom'); } });
    const fine = defineModule({ name: 'fine', schema: data, setup: noop, detect: () => ({ binaries: { tool: '1.0' }, hwaccels: ['vaapi'] }) });
    const caps = await detectWorkerCapabilities({ modules: [hangs, throws, fine], timeoutMs: 50, logger, gpus: [] });
    expect(caps.modules).toEqual(['fine', 'hangs', 'throws']);
    expect(caps.binaries).toEqual({ tool: '1.0' });
    expect(caps.hwaccels).toEqual(['vaapi']);
    expect(aborted).toBe(true); // its programs are told to stop
    expect(warnings.sort()).toEqual([
      'module hangs: capability detection took longer than 0.05 s; it advertises only its name',
      'module throws: capability detection failed (boom); it advertises only its name',
    ]);
  });

  it('a program that answers without a version is "unknown"; one that fails is absent, with a warning', async () => {
    const dir = await tempDir();
    const quiet = join(dir, 'quiet');
    const failing = join(dir, 'failing');
    await writeFile(quiet, '#!/bin/sh\necho "no digits here"\n', { mode: 0o755 });
    await writeFile(failing, '#!/bin/sh\necho "broken: libfoo.so missing" >&2\nexit 127\n', { mode: 0o755 });
    const warnings: string[] = [];
    const logger = { debug: () => undefined, info: () => undefined, warn: (m: string) => warnings.push(m), error: () => undefined };
    const module = defineModule({
      name: 'tools',
      schema: data,
      setup: noop,
      detect: async (ctx) => ({
        binaries: Object.fromEntries(
          Object.entries({
            quiet: await detectBinaryVersion(ctx, 'quiet', { configured: quiet }),
            failing: await detectBinaryVersion(ctx, 'failing', { configured: failing }),
          }).filter(([, v]) => v !== undefined),
        ) as Record<string, string>,
      }),
    });
    const caps = await detectWorkerCapabilities({ modules: [module], logger, gpus: [] });
    expect(caps.binaries).toEqual({ quiet: 'unknown' });
    expect(warnings).toEqual([expect.stringMatching(/^failing \(.*failing\) did not tell its version, so it is not advertised: failing exited with code 127: broken: libfoo.so missing$/)]);
  });
});

describe('worker.tags', () => {
  it('are checked, lower-cased and merged with --tag', () => {
    const settings = resolveWorkerSettings({ worker: { tags: ['GPU', 'fast-disk'] } }, '/tmp', {}, { tags: ['gpu', 'night.shift'] });
    expect(settings.tags).toEqual(['fast-disk', 'gpu', 'night.shift']);
    expect(resolveWorkerSettings({}, '/tmp', {}).tags).toEqual([]);
  });

  it('a bad tag is a one-line ConfigError naming it', () => {
    const bad = () => resolveWorkerSettings({ worker: { tags: ['gpu', 'has space'] } }, '/tmp', {});
    expect(bad).toThrow(ConfigError);
    expect(bad).toThrow(`worker.tags[1] must be a tag: a letter or digit, then letters, digits, '.', '_' or '-' (got "has space")`);
    expect(() => resolveWorkerSettings({}, '/tmp', {}, { tags: ['-x'] })).toThrow(/^--tag must be a tag: .* \(got "-x"\)$/);
  });

  it('in a config file: refused at load, naming the field', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'sisyphus.config.json'), JSON.stringify({ worker: { tags: ['gpu', 'a:b'] } }));
    const error = await loadConfig({ path: join(dir, 'sisyphus.config.json') }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/worker\.tags\[1\]/);
    expect((error as Error).message).not.toContain('\n');
  });
});
