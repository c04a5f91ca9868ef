import { beforeAll, describe, expect, it } from 'vitest';
import { createMemoryDataStore, createProcessRunner, jobRequirements, type GpuDevice } from '@sisyphus/core';
import { detectWorkerCapabilities } from '@sisyphus/core/worker';
import { advertisedEncoders, detectFfmpeg, ffmpegModule, parseEncoderList, parseHwaccelList, type ListedEncoder } from '@sisyphus/module-ffmpeg';

const runner = createProcessRunner();
const context = (gpus: GpuDevice[], settings: Record<string, string> = {}) => ({ settings, runner, signal: new AbortController().signal, timeoutMs: 15_000, gpus });
const NVIDIA: GpuDevice = { vendor: 'nvidia', path: '/dev/nvidia0', kind: 'nvidia' };
const INTEL: GpuDevice = { vendor: 'intel', path: '/dev/dri/renderD128', kind: 'dri' };

/** This machine's ffmpeg listings, raw. */
let listed: ListedEncoder[] = [];
let methods: string[] = [];
beforeAll(async () => {
  const lines = async (args: string[]) => {
    const out: string[] = [];
    await runner.run('ffmpeg', args, { onStdoutLine: (l) => out.push(l) });
    return out;
  };
  listed = parseEncoderList(await lines(['-hide_banner', '-encoders']));
  methods = parseHwaccelList(await lines(['-hide_banner', '-hwaccels']));
});

describe('ffmpeg capability detection (this machine, real ffmpeg)', () => {
  it('parses the encoder list: names, their codecs, in ffmpeg\'s order', () => {
    expect(listed.length).toBeGreaterThan(50);
    expect(listed).toContainEqual({ name: 'libx264', codec: 'h264', experimental: false });
    expect(listed).toContainEqual({ name: 'aac', codec: 'aac', experimental: false });
    expect(listed.some((e) => e.name === '=' || e.name === 'Video')).toBe(false);
  });

  it('a worker without a GPU: versions, software encoders and the codec names they serve; no hardware encoder or method', async () => {
    const caps = await detectWorkerCapabilities({ modules: [ffmpegModule], gpus: [] });
    expect(caps.modules).toEqual(['ffmpeg']);
    expect(caps.binaries.ffmpeg).toMatch(/^\d+\.\d+/);
    expect(caps.binaries.ffprobe).toBe(caps.binaries.ffmpeg);
    expect(caps.encoders).toEqual(expect.arrayContaining(['libx264', 'aac', 'h264', 'mpeg4', 'png']));
    expect(caps.encoders).not.toContain('copy');
    // Debian's build lists NVENC, VA-API, V4L2 encoders: none is usable without its device.
    const hardware = listed.map((e) => e.name).filter((n) => /nvenc|_vaapi$|_qsv$|_v4l2m2m$|_amf$/.test(n));
    expect(hardware.length).toBeGreaterThan(0);
    for (const name of hardware) expect(caps.encoders).not.toContain(name);
    expect(methods.length).toBeGreaterThan(0);
    expect(caps.hwaccels.filter((m) => ['cuda', 'vaapi', 'qsv', 'vdpau', 'drm', 'opencl', 'vulkan'].includes(m))).toEqual([]);
    expect(capsSorted(caps.encoders)).toBe(true);
  });

  it('with an NVIDIA device: NVENC encoders and cuda; with an Intel render node: VA-API and QSV', async () => {
    const nvidia = await detectFfmpeg(context([NVIDIA]), { videoDevices: false });
    for (const name of listed.map((e) => e.name).filter((n) => n.includes('nvenc'))) expect(nvidia.encoders).toContain(name);
    expect(nvidia.encoders).not.toContain('h264_vaapi');
    if (methods.includes('cuda')) expect(nvidia.hwaccels).toContain('cuda');
    expect(nvidia.hwaccels).not.toContain('vaapi');

    const intel = await detectFfmpeg(context([INTEL]), { videoDevices: false });
    for (const name of listed.map((e) => e.name).filter((n) => n.endsWith('_vaapi') || n.endsWith('_qsv'))) expect(intel.encoders).toContain(name);
    expect((intel.encoders ?? []).some((n) => n.includes('nvenc'))).toBe(false);
    for (const m of ['vaapi', 'qsv', 'drm']) if (methods.includes(m)) expect(intel.hwaccels).toContain(m);
    expect(intel.hwaccels).not.toContain('cuda');
  });

  it('a missing ffmpeg is simply absent (ffprobe still counts)', async () => {
    const found = await detectFfmpeg(context([], { ffmpeg: '/nonexistent/ffmpeg' }));
    expect(found.binaries).toEqual({ ffprobe: expect.stringMatching(/^\d/) });
    expect(found.encoders).toBeUndefined();
    const none = await detectFfmpeg(context([], { ffmpeg: 'sisyphus-no-ffmpeg', ffprobe: 'sisyphus-no-ffprobe' }));
    expect(none).toEqual({ binaries: {} });
  });

  it('codec names go to the codec\'s first stable encoder, as ffmpeg picks it', () => {
    const env = { gpus: [], videoDevices: false, platform: 'linux' as const };
    const list: ListedEncoder[] = [
      { name: 'h264_nvenc', codec: 'h264', experimental: false }, // first: ffmpeg -c:v h264 would pick it
      { name: 'libx264', codec: 'h264', experimental: false },
      { name: 'opus', codec: 'opus', experimental: true },
      { name: 'libopus', codec: 'opus', experimental: false },
      { name: 'vorbis', codec: 'vorbis', experimental: true },
      { name: 'hevc_vaapi', codec: 'hevc', experimental: false },
    ];
    // h264 would run on NVENC, which needs a GPU; opus is an encoder's own name; vorbis's only encoder is experimental.
    expect(advertisedEncoders(list, env)).toEqual(['libopus', 'libx264', 'opus', 'vorbis']);
    expect(advertisedEncoders(list, { ...env, gpus: [NVIDIA] })).toEqual(['h264', 'h264_nvenc', 'libopus', 'libx264', 'opus', 'vorbis']);
  });
});

function capsSorted(values: string[]): boolean {
  return values.every((v, i) => i === 0 || values[i - 1]! < v);
}

describe('what an ffmpeg task requires (jobRequirements with the ffmpeg module)', () => {
  const registry = { get: (name: string) => (name === 'ffmpeg' ? { module: ffmpegModule } : undefined) };
  const store = createMemoryDataStore({
    ffmpeg: {
      'nvenc-hq': { name: 'nvenc-hq', options: { c: 'hevc_nvenc', preset: 'p7' } },
      'x265': { options: { 'c:v': 'libx265', crf: 22 } },
      broken: { options: 'c:v=libx264' },
    },
  });
  const getData = (module: string, name: string) => store.get(module, name);
  const BASE = ['binary:ffmpeg', 'binary:ffprobe', 'module:ffmpeg'];
  const needs = async (data: unknown, extra: Record<string, unknown> = {}) =>
    (await jobRequirements({ job_title: 't', tasks: [{ module: 'ffmpeg', data }], ...extra }, registry, getData))!;
  const task = (fields: Record<string, unknown>) => ({ sources: ['/in.mkv'], source_maps: [{ source: 0 }], output_file: '/out.mkv', ...fields });
  const added = async (fields: Record<string, unknown>) => (await needs(task(fields))).all.filter((n) => !BASE.includes(n));

  it('a task requires its module and binaries; copy names no encoder', async () => {
    expect(await needs(task({}))).toEqual({ all: BASE, explicit: false });
    expect(await added({ output_maps: [{ options: { c: 'copy' } }] })).toEqual([]);
  });

  it.each([
    [{ specifier: 'v', options: { c: 'libx264', crf: 20 } }, ['encoder:libx264']],
    [{ options: { 'c:v': 'hevc_nvenc' } }, ['encoder:hevc_nvenc']],
    [{ options: { 'codec:a:0': 'libopus' } }, ['encoder:libopus']],
    [{ options: { 'c:v:0': 'libsvtav1', 'c:a': 'copy' } }, ['encoder:libsvtav1']],
    [{ options: { codec: 'ffv1' } }, ['encoder:ffv1']],
    [{ options: { 'c:V': 'h264' } }, ['encoder:h264']],
    [{ options: { vcodec: 'libx265', acodec: 'aac', scodec: 'mov_text', dcodec: 'copy' } }, ['encoder:aac', 'encoder:libx265', 'encoder:mov_text']],
    [{ specifier: 'a', stream: 1, options: { c: 'flac' } }, ['encoder:flac']],
    [{ options: { c: 'none' } }, []],
    [{ options: { 'c:v': 'auto' } }, []],
    [{ options: { c: false, crf: 20, 'x265-params': { crf: 20 } } }, []],
    [{ options: { codecs: 'libx264', 'codec_tag': 'hvc1', 'vcodec_x': 'y' } }, []], // not codec options
    [{ options: { hwaccel: 'cuda' } }, []], // an input option: refused on an output, names nothing there
  ])('output map %j requires %j', async (map, expected) => {
    expect(await added({ output_maps: [map] })).toEqual(expected);
  });

  it('an option set is laid over the map\'s options (the set wins), read through getData; a missing or malformed set adds nothing', async () => {
    expect(await added({ output_maps: [{ specifier: 'v', option_set: 'nvenc-hq', options: { c: 'libx264' } }] })).toEqual(['encoder:hevc_nvenc']);
    expect(await added({ output_maps: [{ option_set: 'x265' }, { specifier: 'a', options: { c: 'aac' } }] })).toEqual(['encoder:aac', 'encoder:libx265']);
    expect(await added({ output_maps: [{ option_set: 'missing', options: { c: 'libx264' } }, { option_set: 'broken' }] })).toEqual(['encoder:libx264']);
  });

  it.each([
    [{ hwaccel: 'cuda' }, ['hwaccel:cuda']],
    [{ hwaccel: 'nvdec' }, ['hwaccel:cuda']],
    [{ hwaccel: 'cuvid' }, ['hwaccel:cuda']],
    [{ 'hwaccel:v:0': 'qsv' }, ['hwaccel:qsv']],
    [{ hwaccel: 'auto' }, []],
    [{ hwaccel: 'none', hwaccel_output_format: 'cuda', hwaccel_device: '0' }, []],
    [{ 'c:v': 'h264_cuvid' }, ['hwaccel:cuda']],
    [{ 'c:v': 'hevc_qsv' }, ['hwaccel:qsv']],
    [{ 'c:v': 'h264', ss: '0:10' }, []], // a software decoder needs nothing
    [{ init_hw_device: 'vaapi=va:/dev/dri/renderD128' }, ['hwaccel:vaapi']],
    [{ init_hw_device: 'cuda=cu:0' }, ['hwaccel:cuda']],
    [{ init_hw_device: 'qsv=hw@va' }, ['hwaccel:qsv']],
    [{ init_hw_device: 'vulkan' }, ['hwaccel:vulkan']],
    [{ init_hw_device: 'list' }, []],
    [{ vaapi_device: '/dev/dri/renderD128' }, ['hwaccel:vaapi']],
    [{ qsv_device: '/dev/dri/renderD128' }, ['hwaccel:qsv']],
    [{ filter_complex: '[0:v]hwupload_cuda,scale_npp=w=1280:h=-2[v]' }, ['hwaccel:cuda']],
  ])('input options %j require %j', async (input_options, expected) => {
    expect(await added({ input_options })).toEqual(expected);
  });

  it('hardware filters in filter graphs need their device; software ones and unparseable graphs nothing', async () => {
    expect(await added({ output_maps: [{ specifier: 'v', options: { vf: 'scale_cuda=1280:720', 'c:v': 'h264_nvenc' } }] })).toEqual(['encoder:h264_nvenc', 'hwaccel:cuda']);
    expect(await added({ output_maps: [{ options: { 'filter:v': 'format=nv12,hwupload,scale_vaapi=w=1280:h=-2' } }] })).toEqual(['hwaccel:vaapi']);
    expect(await added({ output_maps: [{ options: { filter_complex: 'split[a][b];[a]overlay_qsv[c]', af: 'loudnorm' } }] })).toEqual(['hwaccel:qsv']);
    expect(await added({ output_maps: [{ options: { vf: 'scale=1280:-2,yadif' } }] })).toEqual([]);
    expect(await added({ output_maps: [{ options: { vf: '[unclosed' } }] })).toEqual([]);
  });

  it('explicit requires and derived ones together', async () => {
    expect(await needs(task({ output_maps: [{ options: { 'c:v': 'hevc_nvenc' } }] }), { requires: { tags: ['gpu'], gpus: ['nvidia'] } })).toEqual({
      all: ['binary:ffmpeg', 'binary:ffprobe', 'encoder:hevc_nvenc', 'gpu:nvidia', 'module:ffmpeg', 'tag:gpu'],
      explicit: true,
    });
  });

  it.each([
    null,
    'a string',
    [],
    { output_maps: 'x', input_options: [1, 2] },
    { output_maps: [null, 5, 'x', { options: [] }, { options: { c: 7 } }, { option_set: 42 }] },
    { input_options: { hwaccel: 3, init_hw_device: '' } },
  ])('data it cannot read (%j) requires only the binaries, without throwing', async (data) => {
    expect(await needs(data)).toEqual({ all: BASE, explicit: false });
  });
});
