#!/usr/bin/env node
// bench:overhead: the same encode run through `sisyphus run` and as the
// identical ffmpeg argv run directly, alternating, several rounds. Prints the
// median wall-time ratio (sisyphus / direct), the fixed cost per job
// (median of the paired differences), the part of it the check of the result
// before promotion takes (one ffprobe), and the CLI's start-up time on a no-op
// job, all measured in this run. Times wobble on a shared machine: read the
// ratios, not the absolute numbers.
//
//   npm run bench:overhead            (BENCH_ROUNDS=5, BENCH_SECONDS=14, BENCH_SIZE=1280x720)
//
// The defaults make the encode itself take about 10 s on this 2-core machine (x264 slow, 720p).
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeSample } from '../scripts/make-sample.mjs';
import { PROGRESS_ARGS, buildFfmpegArgs } from '@sisyphus/module-ffmpeg';

const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const seconds = Number(process.env.BENCH_SECONDS ?? 14);
const size = process.env.BENCH_SIZE ?? '1280x720';
const bin = fileURLToPath(new URL('../core/dist/cli/bin.js', import.meta.url));

function timed(file, args) {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(file, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(performance.now() - start) : reject(new Error(`${file} exited ${code}: ${err.slice(-500)}`))));
  });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const dir = await mkdtemp(join(tmpdir(), 'sisyphus-bench-'));
try {
  const source = join(dir, 'source.mkv');
  console.log(`making a ${seconds} s ${size} source...`);
  await makeSample(source, { duration: seconds, size });

  const data = {
    sources: [source],
    source_maps: [{ source: 0, specifier: 'v', stream: 0 }, { source: 0, specifier: 'a', stream: 0 }],
    output_maps: [
      { specifier: 'v', stream: 0, options: { codec: 'libx264', preset: 'slow', crf: 20 } },
      { specifier: 'a', stream: 0, options: { codec: 'aac', b: '128k' } },
    ],
    output_file: join(dir, 'via-sisyphus.mkv'),
    overwrite: true,
  };
  const job = join(dir, 'job.json');
  await writeFile(job, JSON.stringify({ job_title: 'bench', tasks: [{ module: 'ffmpeg', data }] }));
  const direct = ['-hide_banner', ...PROGRESS_ARGS.filter((a) => a !== '-hide_banner'), ...buildFfmpegArgs({ ...data, output_file: join(dir, 'direct.mkv') }, data.output_maps)];
  const config = join(dir, 'sisyphus.config.json');
  await writeFile(config, '{}');

  // Warm the page cache and both paths once.
  await timed('ffmpeg', direct);
  await timed(process.execPath, [bin, 'run', job, '--config', config]);

  const viaSisyphus = [];
  const viaFfmpeg = [];
  for (let i = 0; i < rounds; i++) {
    // Alternate which goes first so drift on the shared machine hits both alike.
    if (i % 2) {
      viaFfmpeg.push(await timed('ffmpeg', direct));
      viaSisyphus.push(await timed(process.execPath, [bin, 'run', job, '--config', config]));
    } else {
      viaSisyphus.push(await timed(process.execPath, [bin, 'run', job, '--config', config]));
      viaFfmpeg.push(await timed('ffmpeg', direct));
    }
    console.log(`round ${i + 1}/${rounds}: sisyphus ${viaSisyphus.at(-1).toFixed(0)} ms, ffmpeg ${viaFfmpeg.at(-1).toFixed(0)} ms`);
  }
  const ratios = viaSisyphus.map((t, i) => t / viaFfmpeg[i]);
  const diffs = viaSisyphus.map((t, i) => t - viaFfmpeg[i]);

  // Start-up: a job whose only task copies a one-byte file, against bare node start-up.
  const tiny = join(dir, 'tiny.txt');
  await writeFile(tiny, 'x');
  const noop = join(dir, 'noop.json');
  await writeFile(noop, JSON.stringify({ job_title: 'noop', tasks: [{ module: 'cleanup', data: { copy: [{ source: tiny, destination: join(dir, 'tiny-copy.txt') }] } }] }));
  const startup = [];
  const bare = [];
  for (let i = 0; i < 9; i++) {
    bare.push(await timed(process.execPath, ['-e', '0']));
    startup.push(await timed(process.execPath, [bin, 'run', noop, '--config', config]));
  }

  // The check before promotion (files are never promoted unverified): one ffprobe that counts the
  // output's packets, timed alone on the same output so the fixed cost below can be read.
  const verify = [];
  for (let i = 0; i < 9; i++) {
    verify.push(await timed('ffprobe', ['-v', 'error', '-count_packets', '-show_entries', 'format=duration,format_name:stream=index,codec_type,avg_frame_rate,r_frame_rate,nb_read_packets', '-of', 'json', '--', data.output_file]));
  }

  console.log('');
  console.log(`encode (direct ffmpeg, median):          ${median(viaFfmpeg).toFixed(0)} ms`);
  console.log(`encode via sisyphus run (median):        ${median(viaSisyphus).toFixed(0)} ms`);
  console.log(`wall-time ratio sisyphus/direct (median): ${median(ratios).toFixed(3)}   (target <= 1.03)`);
  console.log(`fixed cost per job (median difference):  ${median(diffs).toFixed(0)} ms   (target < 400 ms)`);
  console.log(`  of which the output check (one ffprobe counting the result's packets, median): ${median(verify).toFixed(0)} ms`);
  console.log(`no-op job through sisyphus run (median): ${median(startup).toFixed(0)} ms, of which bare node start-up ${median(bare).toFixed(0)} ms`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
