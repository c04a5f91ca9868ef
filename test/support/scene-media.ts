/**
 * Generated media with hard scene changes for the end-to-end chunked-encode
 * tests, and the checks made on what an encode wrote (video stream hash,
 * frame count, frame timestamps). Made with ffmpeg's lavfi sources, so the
 * same call makes the same file on any machine with this ffmpeg.
 */
import { execa } from 'execa';

const quiet = ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y'];

/** The lavfi sources of the scenes, one after the other (each looks nothing like the one before). */
const SCENE_SOURCES = [
  (size: string, rate: string) => `testsrc2=size=${size}:rate=${rate}`,
  (size: string, rate: string) => `mandelbrot=size=${size}:rate=${rate}`,
  (size: string, rate: string) => `life=size=${size}:rate=${rate}:mold=10:ratio=0.3:death_color=#C83232:life_color=#00ff00`,
  (size: string, rate: string) => `testsrc=size=${size}:rate=${rate}`,
  (size: string, rate: string) => `gradients=size=${size}:rate=${rate}:speed=0.05`,
  (size: string, rate: string) => `cellauto=size=${size}:rate=${rate}:rule=110`,
];

/** Scene lengths in seconds of {@link makeSceneSource} by default: 16 s, hard cuts at 2.6, 5.7, 8.1, 11.0 and 13.7 s. */
export const DEFAULT_SCENES = [2.6, 3.1, 2.4, 2.9, 2.7, 2.3];

/**
 * Write `out` (Matroska): `scenes` (seconds each, at most six) of different
 * lavfi sources at `size` (WxH) and `rate` (24000/1001 by default), H.264
 * (x264 veryfast, a keyframe at least every 60 frames, B-frames) and a
 * 440 Hz sine in AAC as long as the video.
 */
export async function makeSceneSource(out: string, { size = '426x240', rate = '24000/1001', scenes = DEFAULT_SCENES } = {}): Promise<void> {
  if (scenes.length > SCENE_SOURCES.length) throw new Error(`at most ${SCENE_SOURCES.length} scenes`);
  const total = scenes.reduce((a, b) => a + b, 0);
  const inputs = scenes.flatMap((_, i) => ['-f', 'lavfi', '-i', SCENE_SOURCES[i]!(size, rate)]);
  const trims = scenes.map((d, i) => `[${i}]trim=duration=${d},setpts=PTS-STARTPTS,format=yuv420p[s${i}]`).join(';');
  const labels = scenes.map((_, i) => `[s${i}]`).join('');
  await execa('ffmpeg', [
    ...quiet,
    ...inputs,
    '-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${total}`,
    '-filter_complex', `${trims};${labels}concat=n=${scenes.length}:v=1:a=0[v]`,
    '-map', '[v]', '-map', `${scenes.length}:a`,
    '-c:v', 'libx264', '-preset', 'veryfast', '-g', '60', '-c:a', 'aac', '-b:a', '64k',
    out,
  ]);
}

/** SHA-256 over the packets of `file`'s first video stream (`-c copy -f hash`): equal only when the coded video is byte-identical. */
export async function videoStreamHash(file: string): Promise<string> {
  const { stdout } = await execa('ffmpeg', ['-v', 'error', '-nostdin', '-i', file, '-map', '0:v:0', '-c', 'copy', '-f', 'hash', '-hash', 'sha256', '-']);
  return stdout.trim();
}

/** The packets of stream `select` (`v:0`, `a:0`) of `file` in file order: pts and dts in seconds (NaN when absent), keyframe flag. */
export async function streamPackets(file: string, select = 'v:0'): Promise<Array<{ pts: number; dts: number; key: boolean }>> {
  const { stdout } = await execa('ffprobe', ['-v', 'error', '-select_streams', select, '-show_entries', 'packet=pts_time,dts_time,flags', '-of', 'csv=p=0', file]);
  return stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [pts, dts, flags] = line.split(',');
      return { pts: Number(pts), dts: Number(dts), key: (flags ?? '').startsWith('K') };
    });
}

/** The video frames of `file` (first video stream) as presented: their times in seconds, sorted. */
export async function frameTimes(file: string): Promise<number[]> {
  return (await streamPackets(file)).map((p) => p.pts).sort((a, b) => a - b);
}
