#!/usr/bin/env node
// Makes a short sample video with ffmpeg's lavfi sources: 1 video (h264),
// 3 audio (aac: English, English commentary, Japanese) and 2 subtitle (srt:
// English, Japanese) streams, like a typical source for the seed's job.
//
//   node scripts/make-sample.mjs OUT.mkv [--duration 3] [--size 426x240] [--rate 24]
//
// Used by the README's main command, the end-to-end tests and the benchmarks.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

function srt(lines, duration) {
  const step = duration / lines.length;
  const ts = (s) => {
    const ms = Math.round(s * 1000);
    const p = (n, w = 2) => String(n).padStart(w, '0');
    return `${p(Math.floor(ms / 3600000))}:${p(Math.floor(ms / 60000) % 60)}:${p(Math.floor(ms / 1000) % 60)},${p(ms % 1000, 3)}`;
  };
  return lines.map((text, i) => `${i + 1}\n${ts(i * step)} --> ${ts((i + 1) * step - 0.05)}\n${text}\n`).join('\n');
}

/**
 * Write the sample to `out`. Resolves when ffmpeg is done; rejects with its
 * stderr when it fails.
 */
export async function makeSample(out, { duration = 3, size = '426x240', rate = 24, ffmpeg = 'ffmpeg' } = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'sisyphus-sample-'));
  try {
    const eng = join(dir, 'eng.srt');
    const jpn = join(dir, 'jpn.srt');
    await writeFile(eng, srt(['It was a dark and stormy night.', 'The encode went on.'], duration));
    await writeFile(jpn, srt(['暗い嵐の夜だった。', 'エンコードは続いた。'], duration));
    await mkdir(dirname(resolve(out)), { recursive: true });
    const sine = (f) => ['-f', 'lavfi', '-i', `sine=frequency=${f}:sample_rate=48000:duration=${duration}`];
    const args = [
      '-y', '-hide_banner', '-loglevel', 'error', '-nostdin',
      '-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=${rate}:duration=${duration}`,
      ...sine(440), ...sine(660), ...sine(880),
      '-i', eng, '-i', jpn,
      '-map', '0:v', '-map', '1:a', '-map', '2:a', '-map', '3:a', '-map', '4:s', '-map', '5:s',
      '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p',
      '-c:a', 'aac', '-b:a', '96k', '-ac', '2',
      '-c:s', 'srt',
      '-metadata', 'title=Sisyphus sample',
      '-metadata:s:a:0', 'language=eng', '-metadata:s:a:0', 'title=English',
      '-metadata:s:a:1', 'language=eng', '-metadata:s:a:1', 'title=Commentary',
      '-metadata:s:a:2', 'language=jpn', '-metadata:s:a:2', 'title=Japanese',
      '-metadata:s:s:0', 'language=eng', '-metadata:s:s:1', 'language=jpn',
      resolve(out),
    ];
    await new Promise((ok, fail) => {
      const child = spawn(ffmpeg, args, { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      child.on('error', fail);
      child.on('close', (code) => (code === 0 ? ok() : fail(new Error(`ffmpeg failed (${code}): ${stderr.trim()}`))));
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [out, ...rest] = process.argv.slice(2);
  if (!out) {
    console.error('usage: make-sample.mjs OUT.mkv [--duration S] [--size WxH] [--rate FPS]');
    process.exit(2);
  }
  const opts = {};
  for (let i = 0; i < rest.length; i += 2) opts[rest[i].replace(/^--/, '')] = rest[i + 1];
  if (opts.duration) opts.duration = Number(opts.duration);
  if (opts.rate) opts.rate = Number(opts.rate);
  await makeSample(out, opts);
  console.error(`sample written: ${resolve(out)}`);
}
