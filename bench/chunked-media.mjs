// The source of bench:chunked: a generated 1280x720, 25 fps video with hard
// scene changes (segments of different lavfi sources, a few seconds each,
// one after the other) and a stereo AAC track, in Matroska; H.264 from x264
// `veryfast` at CRF 16 with a keyframe at least every 2 s (and at x264's own
// scene cuts), as a camera or a broadcast recording would have.
import { spawn } from 'node:child_process';

/** Frames per second of the generated source. */
export const RATE = 25;
export const SIZE = '1280x720';

/**
 * The scenes, in order: a lavfi source (`SIZE` and `RATE` are filled in) with
 * the filters that give it motion or scale it up, and how many seconds it
 * lasts. They differ in how hard they are for x264 (flat bars to a moving
 * fractal), so chunks of the same length cost different times.
 */
const SCENES = [
  { seconds: 6, source: 'testsrc2=size=@SIZE:rate=@RATE' },
  { seconds: 5, source: 'mandelbrot=size=@SIZE:rate=@RATE:start_scale=3:end_scale=0.3:end_pts=40' },
  { seconds: 8, source: 'life=size=320x180:rate=@RATE:mold=10:ratio=0.2:death_color=#C83232:life_color=#00ff00', filter: 'scale=@SIZE:flags=neighbor' },
  { seconds: 4, source: 'smptehdbars=size=@SIZE:rate=@RATE', filter: 'scroll=horizontal=0.003:vertical=0.001' },
  { seconds: 7, source: 'cellauto=size=640x360:rate=@RATE:rule=110:random_fill_ratio=0.5', filter: 'scale=@SIZE:flags=bicubic' },
  { seconds: 5, source: 'gradients=size=@SIZE:rate=@RATE:speed=0.03:n=4' },
  { seconds: 6, source: 'sierpinski=size=@SIZE:rate=@RATE:type=triangle:jump=2' },
  { seconds: 4, source: 'rgbtestsrc=size=@SIZE:rate=@RATE', filter: 'scroll=horizontal=0.005,hue=H=t' },
  { seconds: 9, source: 'mandelbrot=size=@SIZE:rate=@RATE:start_x=-0.743643887037151:start_y=0.131825904205330:start_scale=0.5:end_scale=0.01:end_pts=200' },
  { seconds: 6, source: 'testsrc2=size=@SIZE:rate=@RATE', filter: 'rotate=a=t/3:c=black,hue=s=0.6' },
];

/** Seconds of the generated source (the sum of the scenes). */
export const SECONDS = SCENES.reduce((t, s) => t + s.seconds, 0);

/** Scene-change times in seconds (where each scene after the first starts). */
export const SCENE_CHANGES = SCENES.slice(0, -1).map((_, i) => SCENES.slice(0, i + 1).reduce((t, s) => t + s.seconds, 0));

const fill = (s) => s.replaceAll('@SIZE', SIZE).replaceAll('@RATE', String(RATE));

/** The ffmpeg argv (without the program) that writes the source to `out`. */
export function sourceArgs(out) {
  const inputs = SCENES.flatMap((s) => ['-f', 'lavfi', '-i', fill(s.source)]);
  const chains = SCENES.map((s, i) => `[${i}]trim=duration=${s.seconds},setpts=PTS-STARTPTS${s.filter ? `,${fill(s.filter)}` : ''},format=yuv420p,setsar=1[s${i}]`);
  const concat = `${SCENES.map((_, i) => `[s${i}]`).join('')}concat=n=${SCENES.length}:v=1:a=0[v]`;
  const audio = `aevalsrc=0.3*sin(440*2*PI*t)+0.05*sin(97*2*PI*t)|0.3*sin(660*2*PI*t)+0.05*sin(131*2*PI*t):s=48000:d=${SECONDS}`;
  return [
    '-hide_banner', '-loglevel', 'error', '-nostdin', '-y',
    ...inputs,
    '-f', 'lavfi', '-i', audio,
    '-filter_complex', `${chains.join(';')};${concat}`,
    '-map', '[v]', '-map', `${SCENES.length}:a`,
    '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '16', '-g', String(2 * RATE),
    '-c:a', 'aac', '-b:a', '192k',
    out,
  ];
}

/** Run a program, resolve with its stdout; reject with its stderr's tail when it fails. */
export function run(program, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err = (err + d).slice(-4000)));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${program} ${args.slice(0, 4).join(' ')}... exited with ${code}: ${err.trim()}`))));
  });
}

/** Write the source to `out` (about half a minute on this machine, both cores). */
export async function makeSource(out) {
  await run('ffmpeg', sourceArgs(out));
}

/** Video packets (= frames) of the first video stream of `file`, counted by ffprobe (a demux, no decode). */
export async function videoFrames(file) {
  const out = await run('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-count_packets', '-show_entries', 'stream=nb_read_packets', '-of', 'csv=p=0', file]);
  return Number(out.trim());
}

/** sha256 of the first video stream's packets (`-c copy -f hash`): equal only when the coded video is byte-identical. */
export async function videoHash(file) {
  return (await run('ffmpeg', ['-v', 'error', '-nostdin', '-i', file, '-map', '0:v:0', '-c', 'copy', '-f', 'hash', '-hash', 'sha256', '-'])).trim();
}

/** The first `seconds` of `source`, encoded again like the source (so it ends on a whole frame and keeps a constant rate), into `out`. */
export async function makeShort(source, seconds, out) {
  await run('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-nostdin', '-y', '-i', source, '-t', String(seconds), '-map', '0:v:0', '-map', '0:a:0',
    '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '16', '-g', String(2 * RATE), '-c:a', 'aac', '-b:a', '192k', out,
  ]);
}

/** Seconds of the first video stream of `file` (its frame count over its frame rate), with its size and rate. */
export async function videoInfo(file) {
  const out = await run('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height,r_frame_rate', '-of', 'json', file]);
  const s = JSON.parse(out).streams[0];
  const [num, den] = s.r_frame_rate.split('/').map(Number);
  const frames = await videoFrames(file);
  return { width: s.width, height: s.height, fps: num / den, frames, seconds: (frames * den) / num };
}
