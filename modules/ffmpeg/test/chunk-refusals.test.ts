import { describe, expect, it } from 'vitest';
import type { ResolvedOutputMap } from '../src/build-args.js';
import type { FfmpegData } from '../src/ffmpeg-schema.js';
import type { ProbedStream } from '../src/probe.js';
import { refuseUnchunkable, type ChunkingCheck } from '../src/chunking/chunk-refusals.js';
import type { Chunking } from '../src/chunking/chunking-schema.js';
import { optionReach, splitOutputMaps } from '../src/chunking/option-split.js';

/** The output of `-map 0:v -map 0:a -map 0:s`: video, two audio, a subtitle. */
const output: ProbedStream[] = [
  { index: 0, codec_type: 'video', codec_name: 'h264' },
  { index: 1, codec_type: 'audio', codec_name: 'aac' },
  { index: 2, codec_type: 'audio', codec_name: 'aac' },
  { index: 3, codec_type: 'subtitle', codec_name: 'subrip' },
];
const cover: ProbedStream = { index: 4, codec_type: 'video', codec_name: 'mjpeg', disposition: { attached_pic: 1 } };

const video = (options: ResolvedOutputMap['options']): ResolvedOutputMap => ({ specifier: 'v', stream: 0, options: { codec: 'libx264', crf: 20, ...options } });

function check(patch: { data?: Partial<FfmpegData & { chunking: Chunking }>; maps?: ResolvedOutputMap[]; kind?: ChunkingCheck['kind']; output?: ProbedStream[] } = {}) {
  const data = { sources: ['/in.mkv'], source_maps: [{ source: 0 }], output_file: '/out.mkv', chunking: { seconds: 60 }, ...patch.data } as FfmpegData & { chunking: Chunking };
  const maps = patch.maps ?? [video({}), { specifier: 'a', options: { codec: 'libopus', b: '96k' } }];
  return refuseUnchunkable({ data, maps, kind: patch.kind ?? 'file', output: patch.output ?? output, outputSources: (patch.output ?? output).map(() => 0) });
}

const refusal = (patch: Parameters<typeof check>[0]) => {
  try {
    check(patch);
  } catch (error) {
    return (error as Error).message;
  }
  return 'accepted';
};

describe('refuseUnchunkable', () => {
  it('accepts an ordinary quality-targeted encode and splits its options', () => {
    const result = check({ maps: [{ options: { c: 'copy', movflags: '+faststart' } }, video({ preset: 'slow', 'x264-params': 'aq-mode=3', metadata: { title: 'Film' }, maxrate: '8M', bufsize: '16M' })] });
    expect(result!.video).toBe(0);
    expect(result!.split.chunk).toEqual([
      { specifier: 'v', stream: 0, options: { codec: 'copy' } },
      { specifier: 'v', stream: 0, options: { codec: 'libx264', crf: 20, preset: 'slow', 'x264-params': 'aq-mode=3', maxrate: '8M', bufsize: '16M' } },
    ]);
    expect(result!.split.join).toEqual([
      { options: { c: 'copy', movflags: '+faststart' } },
      { specifier: 'v', stream: 0, options: { metadata: { title: 'Film' } } },
      { stream: 0, options: { codec: 'copy' } },
    ]);
  });

  it.each<[string, Parameters<typeof check>[0], string]>([
    ['two-pass', { maps: [video({ pass: 1 })] }, 'output_maps[0].options.pass: two-pass encoding cannot be chunked: each chunk would make its own first pass'],
    ['x264 stats', { maps: [video({ 'x264-params': 'pass=2:stats=/tmp/x' })] }, 'output_maps[0].options["x264-params"].pass: two-pass encoding cannot be chunked'],
    ['a bitrate target', { maps: [video({ 'b:v': '4M' })] }, 'output_maps[0].options["b:v"]: bitrate-targeted rate control cannot be chunked: each chunk would meet the target on its own; use a quality target (crf, qp, cq; b: 0 is fine)'],
    ['a bitrate target for every stream', { maps: [{ options: { b: '4M' } }, video({})] }, 'output_maps[0].options.b: bitrate-targeted rate control cannot be chunked: each chunk would meet the target on its own; use a quality target (crf, qp, cq; b: 0 is fine)'],
    ['x265 bitrate', { maps: [video({ codec: 'libx265', 'x265-params': { bitrate: 3000 } })] }, 'output_maps[0].options["x265-params"].bitrate: bitrate-targeted rate control cannot be chunked; use a quality target (crf)'],
    ['an output frame rate', { maps: [video({ r: 30 })] }, "output_maps[0].options.r: changes the frame rate: the output's frames would not be the source's"],
    ['fps filter', { maps: [video({ vf: 'scale=1280:-2,fps=30' })] }, 'output_maps[0].options.vf: filter fps may drop, add or retime frames or depend on other frames or on time, so it cannot run in chunks; chunking allows null, copy, format'],
    ['setpts', { maps: [video({ 'filter:v': 'setpts=PTS/2' })] }, 'output_maps[0].options["filter:v"]: filter setpts may drop'],
    ['burnt-in subtitles', { maps: [video({ vf: 'subtitles=/subs.srt' })] }, 'output_maps[0].options.vf: filter subtitles may drop'],
    ['timeline editing', { maps: [video({ vf: "eq=brightness=0.1:enable='between(t,1,2)'" })] }, "output_maps[0].options.vf: eq's enable depends on the frame's time or number, which restart in every chunk"],
    ['a video filter for the video and a cover picture', { maps: [{ options: { vf: 'scale=640:-2' } }, video({})], output: [...output, cover] }, 'output_maps[0].options.vf: a video filter in a map of several streams; give it in an output map of the video stream'],
    ['a complex graph', { maps: [{ options: { filter_complex: '[0:v]scale=640:-2[v]' } }, video({})] }, 'output_maps[0].options.filter_complex: a complex filter graph cannot be split into chunks'],
    ['input seeking', { data: { input_options: { ss: '0:10:00' } } }, 'input_options.ss: seeking and trimming (ss, sseof, t, to) cannot be combined with chunking, which encodes the whole video stream'],
    ['output trimming', { maps: [video({ t: 60 })] }, 'output_maps[0].options.t: trims the output; chunking encodes the whole video stream'],
    ['shortest', { maps: [{ options: { shortest: true } }, video({})] }, "output_maps[0].options.shortest: may cut the video at another stream's end; a chunked encode keeps every frame"],
    ['copyts', { data: { input_options: { copyts: true } } }, "input_options.copyts: keeps the input's timestamps, which chunks start from 0"],
    ['a copied video', { maps: [video({ codec: 'copy' })] }, 'output_maps[0].options.codec: the video is copied, not encoded: there is nothing to encode in chunks'],
    ['no video codec', { maps: [{ specifier: 'v', options: { crf: 20 } }] }, 'output_maps: chunking: the video\'s codec is not set; give it in an output map of the video stream (e.g. options.codec: "libx264"), so every chunk is encoded as the output would be'],
    ['automatic threads', { maps: [video({ threads: 0 })] }, 'output_maps[0].options.threads: threads 0 depends on the worker\'s cores, so chunks would differ by worker; give a fixed count (default 1 per chunk)'],
    ['keyframes forced by time', { maps: [video({ force_key_frames: 'expr:gte(t,n_forced*2)' })] }, "output_maps[0].options.force_key_frames: keyframe times would count from each chunk's start; only \"source\" works with chunking"],
    ['a file written per encode', { maps: [video({ codec: 'libx265', 'x265-params': { csv: '/tmp/x.csv' } })] }, 'accepted'],
    ['two video streams', { output: [...output, { index: 4, codec_type: 'video', codec_name: 'hevc' }] }, 'source_maps: chunking: the source maps give the output 2 video streams; chunked encoding encodes exactly one'],
    ['no video', { output: output.slice(1), maps: [{ specifier: 'a', options: { codec: 'aac' } }] }, 'source_maps: chunking: the source maps give the output no video stream to encode in chunks'],
    ['an image sequence', { kind: 'sequence' }, 'output_file: chunking writes one file; an image sequence cannot be encoded in chunks'],
    ['HLS', { kind: 'segments' }, 'output_file: chunking writes one file; a segmented output (HLS, DASH, segment) cannot be encoded in chunks'],
    ['a single image', { data: { output_file: '/out/poster.PNG' } }, 'output_file: poster.PNG is a single image (png): chunking encodes the whole video stream into one container file (mkv, mp4, mov, ts, webm...)'],
    ['a single image by format', { data: { output_file: '/out/poster' }, maps: [{ options: { f: 'image2' } }, video({})] }, 'output_file: poster is a single image (image2): chunking encodes'],
    ['an AVI', { data: { output_file: '/out/film.AVI' } }, 'output_file: film.AVI: AVI keeps no presentation times, so a joined file\'s frame timing could neither be kept exactly nor verified; write Matroska, MP4, MOV, MPEG-TS or WebM'],
    ['a raw H.264 stream', { data: { output_file: '/out/film.264' } }, 'output_file: film.264: a raw h264 stream keeps no timestamps, so a joined file\'s frame timing'],
    ['a raw stream by format', { data: { output_file: '/out/film.mkv' }, maps: [{ options: { f: 'hevc' } }, video({})] }, 'output_file: film.mkv: a raw hevc stream keeps no timestamps'],
    ['an MPEG program stream', { data: { output_file: '/out/film.mpg' } }, 'accepted'],
    ['min over seconds', { data: { chunking: { seconds: 10, min_seconds: 20 } } }, 'chunking.min_seconds: 20 is more than chunking.seconds (10)'],
    ['scene setting with keyframe cuts', { data: { chunking: { seconds: 10, cut: 'keyframe', scene_keyframes: true } } }, 'chunking.scene_keyframes: applies to cut "scene" only (cut is "keyframe")'],
    ['scene threshold with keyframe cuts', { data: { chunking: { seconds: 10, cut: 'keyframe', scene_threshold: 0.5 } } }, 'chunking.scene_threshold: applies to cut "scene" only (cut is "keyframe")'],
  ])('refuses %s with one line naming the field', (_name, patch, message) => {
    const got = refusal(patch);
    if (message === 'accepted') expect(got).toBe('accepted');
    else expect(got.startsWith(message), got).toBe(true);
    expect(got).not.toContain('\n');
  });

  it('refuses an option value that names a file the encoder writes, from the option review', () => {
    const data = { sources: ['/in.mkv'], source_maps: [{ source: 0 }], output_file: '/out.mkv', chunking: { seconds: 60 } } as FfmpegData & { chunking: Chunking };
    const maps: ResolvedOutputMap[] = [video({ codec: 'libx265', 'x265-params': { csv: '/tmp/x.csv' } })];
    const files = [{ field: 'output_maps[0].options["x265-params"].csv', path: '/tmp/x.csv', access: 'write' as const, kind: 'file' as const, reason: 'x265 per-frame CSV log', rewrite: true }];
    expect(() => refuseUnchunkable({ data, maps, kind: 'file', output, files })).toThrow('output_maps[0].options["x265-params"].csv: names a file the encoder writes (x265 per-frame CSV log); every chunk would write its own');
  });

  it('accepts b: 0 (libvpx constant quality), force_key_frames source, a fixed thread count, safe filters, a cover picture', () => {
    expect(refusal({ maps: [video({ codec: 'libvpx-vp9', crf: 30, b: 0, threads: 4, force_key_frames: 'source', vf: 'crop=1920:800,scale=1280:-2:flags=lanczos,format=yuv420p10le' })] })).toBe('accepted');
    expect(refusal({ output: [...output, cover] })).toBe('accepted');
  });
});

describe('optionReach and splitOutputMaps', () => {
  it('finds the streams an option reaches: map addressing, own specifier, video- or audio-only options, metadata specifiers', () => {
    expect(optionReach({}, 'crf', output)).toEqual([0, 1, 2, 3]);
    expect(optionReach({}, 'c:v', output)).toEqual([0]);
    expect(optionReach({}, 'b:a:1', output)).toEqual([2]);
    expect(optionReach({}, 'vf', output)).toEqual([0]);
    expect(optionReach({}, 'ar', output)).toEqual([1, 2]);
    expect(optionReach({ specifier: 'a' }, 'codec', output)).toEqual([1, 2]);
    expect(optionReach({ stream: 3 }, 'codec', output)).toEqual([3]);
    expect(optionReach({}, 'metadata', output)).toEqual([]);
    expect(optionReach({}, 'metadata:s:v:0', output)).toEqual([0]);
    expect(optionReach({ specifier: 'v', stream: 0 }, 'metadata', output)).toEqual([0]);
  });

  it('keeps the order of the task\'s maps on both sides, and gives the cover picture its own options in the join', () => {
    const withCover = [output[0]!, cover];
    const split = splitOutputMaps([{ specifier: 'v', options: { codec: 'libx264', preset: 'slow' } }, { specifier: 'v', stream: 0, options: { crf: 18, disposition: 'default' } }], withCover, 0);
    expect(split.chunk).toEqual([{ specifier: 'v', stream: 0, options: { codec: 'libx264', preset: 'slow' } }, { specifier: 'v', stream: 0, options: { crf: 18 } }]);
    expect(split.join).toEqual([{ specifier: 'v', options: { codec: 'libx264', preset: 'slow' } }, { specifier: 'v', stream: 0, options: { disposition: 'default' } }, { stream: 0, options: { codec: 'copy' } }]);
  });
});
