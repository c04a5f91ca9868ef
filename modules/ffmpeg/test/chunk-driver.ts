/**
 * A chunked encode driven by hand from the building blocks (what the task
 * does with child jobs): plan, encode every chunk as its own ffmpeg
 * process, check the chunks, join, verify. For the tests of the blocks.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createProcessRunner, type ProcessRunner } from '@sisyphus/core';
import { buildFfmpegArgs, type ResolvedOutputMap } from '../src/build-args.js';
import type { FfmpegData } from '../src/ffmpeg-schema.js';
import { outputKind } from '../src/option-policy.js';
import { mappedOutput } from '../src/output-streams.js';
import { probe, type ProbeResult } from '../src/probe.js';
import type { Chunking } from '../src/chunking/chunking-schema.js';
import { chunkArgs, chunkTaskData, type ChunkEncodeSpec } from '../src/chunking/chunk-encode.js';
import { concatList, expandSourceMaps, joinArgs } from '../src/chunking/chunk-join.js';
import { planChunks, type ChunkPlan } from '../src/chunking/chunk-plan.js';
import { refuseUnchunkable } from '../src/chunking/chunk-refusals.js';
import { sourceEnds, verifyChunks, verifyJoin } from '../src/chunking/chunk-verify.js';
import { scanPackets } from '../src/chunking/packet-scan.js';

export const runner: ProcessRunner = createProcessRunner();

/** How the chunks are run: in plan order one by one, in reverse, or `parallel` at a time. */
export type ChunkOrder = 'forward' | 'reverse' | { parallel: number };

export interface ChunkedResult {
  plan: ChunkPlan;
  /** The argv of every chunk's encode, by chunk index. */
  chunkArgv: string[][];
  joinArgv: string[];
}

/** Probe every source of `data`. */
export async function probeAll(data: FfmpegData): Promise<Map<number, ProbeResult>> {
  const probes = new Map<number, ProbeResult>();
  for (const [i, source] of data.sources.entries()) probes.set(i, await probe(runner, 'ffprobe', source, 'run'));
  return probes;
}

/** The unchunked encode of `data` (ffmpeg's argv as the task builds it) into `out`. */
export async function encodeWhole(data: FfmpegData, out: string): Promise<void> {
  await runner.run('ffmpeg', ['-hide_banner', '-nostdin', '-loglevel', 'error', ...buildFfmpegArgs({ ...data, overwrite: true }, (data.output_maps ?? []) as ResolvedOutputMap[], out)]);
}

/** Run `jobs` in `order`. */
async function runAll(jobs: Array<() => Promise<unknown>>, order: ChunkOrder): Promise<void> {
  if (order === 'forward') for (const job of jobs) await job();
  else if (order === 'reverse') for (const job of [...jobs].reverse()) await job();
  else {
    const queue = [...jobs];
    await Promise.all(Array.from({ length: order.parallel }, async () => {
      for (let job = queue.shift(); job; job = queue.shift()) await job();
    }));
  }
}

/**
 * Encode `data` in chunks into `out`, using `folder` for the chunks.
 * `tamper` runs between the chunk encodes and the join (to break things).
 */
export async function encodeChunked(
  data: FfmpegData & { chunking: Chunking },
  out: string,
  folder: string,
  { order = 'forward' as ChunkOrder, tamper = async (_plan: ChunkPlan) => {} } = {},
): Promise<ChunkedResult> {
  const maps = (data.output_maps ?? []) as ResolvedOutputMap[];
  const probes = await probeAll(data);
  const output = mappedOutput(data, probes)!;
  const streams = expandSourceMaps(data, probes);
  const checked = refuseUnchunkable({ data, maps, kind: outputKind(data, maps), output: output.streams, outputSources: streams.map((s) => s.source) })!;
  const videoFrom = streams[checked.video]!;
  const scan = await scanPackets(runner, 'ffprobe', data.sources[videoFrom.source]!, 'run');
  const codec = probes.get(videoFrom.source)?.streams.find((s) => s.index === videoFrom.stream)?.codec_name;
  const plan = await planChunks(runner, 'ffmpeg', data.sources[videoFrom.source]!, scan, videoFrom.stream, codec, data.chunking);

  await mkdir(folder, { recursive: true });
  const spec: ChunkEncodeSpec = {
    source: data.sources[videoFrom.source]!,
    stream: videoFrom.stream,
    ...(videoFrom.source === 0 && data.input_options ? { inputOptions: data.input_options } : {}),
    maps: checked.split.chunk,
  };
  const chunkArgv = plan.chunks.map((chunk) => chunkArgs('ffmpeg', chunkTaskData(spec, chunk, folder)));
  await runAll(chunkArgv.map((argv) => () => runner.run(argv[0]!, ['-hide_banner', '-nostdin', '-loglevel', 'error', ...argv.slice(1)])), order);
  await tamper(plan);
  const starts = await verifyChunks(runner, 'ffmpeg', 'ffprobe', folder, plan);

  const list = join(folder, 'chunks.ffconcat');
  await writeFile(list, concatList(plan, starts));
  const joinArgv = joinArgs(plan, { sources: data.sources, inputOptions: data.input_options, streams, video: checked.video, list, maps: checked.split.join, output: out, overwrite: true });
  await runner.run('ffmpeg', ['-hide_banner', '-nostdin', '-loglevel', 'error', ...joinArgv]);

  const scans = new Map([[videoFrom.source, scan]]);
  for (const s of streams) if (!scans.has(s.source)) scans.set(s.source, await scanPackets(runner, 'ffprobe', data.sources[s.source]!, 'run'));
  const ends = sourceEnds(streams, checked.video, scans);
  await verifyJoin(runner, 'ffprobe', out, plan, { video: checked.video, ends });
  return { plan, chunkArgv, joinArgv };
}
