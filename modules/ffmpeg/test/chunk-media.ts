/**
 * Tiny media for the chunking tests, made with ffmpeg's lavfi sources:
 * hard scene changes (different sources one after the other), B-frames,
 * audio, and the special cases (open GOP, variable frame rate).
 */
import { execa } from 'execa';

const quiet = ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y'];

/** Scene lengths in seconds of {@link makeScenes}: cuts at 2.3, 5.4 and 8.1 s. */
export const SCENES = [2.3, 3.1, 2.7, 2.9];

/**
 * Four scenes with hard changes (testsrc2, mandelbrot, life, testsrc) at
 * 24000/1001 fps, H.264 with B-frames and keyframes every 60 frames plus
 * x264's scene cuts, and a sine in AAC: 11 s, 264 frames. `size` is WxH.
 */
export async function makeScenes(out: string, { size = '320x180', rate = '24000/1001', extra = [] as string[] } = {}): Promise<void> {
  const total = SCENES.reduce((a, b) => a + b, 0);
  const trims = SCENES.map((d, i) => `[${i}]trim=duration=${d},setpts=PTS-STARTPTS,format=yuv420p[s${i}]`).join(';');
  await execa('ffmpeg', [
    ...quiet,
    '-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=${rate}`,
    '-f', 'lavfi', '-i', `mandelbrot=size=${size}:rate=${rate}`,
    '-f', 'lavfi', '-i', `life=size=${size}:rate=${rate}:mold=10:ratio=0.3:death_color=#C83232:life_color=#00ff00`,
    '-f', 'lavfi', '-i', `testsrc=size=${size}:rate=${rate}`,
    '-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${total}`,
    '-filter_complex', `${trims};[s0][s1][s2][s3]concat=n=4:v=1:a=0[v]`,
    '-map', '[v]', '-map', '4:a',
    '-c:v', 'libx264', '-preset', 'veryfast', '-g', '60', '-c:a', 'aac', '-b:a', '64k',
    '-metadata:s:v:0', 'title=Picture', '-metadata:s:a:0', 'language=eng',
    ...extra,
    out,
  ]);
}

/** An open-GOP copy of `source`'s video: x264 open-gop with a fixed B pattern, so every I-frame after the first has leading B-frames. */
export async function makeOpenGop(source: string, out: string): Promise<void> {
  await execa('ffmpeg', [
    ...quiet, '-i', source, '-map', '0:v', '-map', '0:a',
    '-c:v', 'libx264', '-preset', 'veryfast', '-x264-params', 'open-gop=1:bframes=3:b-adapt=0:keyint=50:min-keyint=50:scenecut=0',
    '-c:a', 'copy', out,
  ]);
}

/** A variable-frame-rate file: 2 s at 24 fps, then 2 s at 30 fps (Matroska keeps each frame's own time). */
export async function makeVfr(out: string): Promise<void> {
  await execa('ffmpeg', [
    ...quiet,
    '-f', 'lavfi', '-i', 'testsrc2=size=160x90:rate=24:duration=2',
    '-f', 'lavfi', '-i', 'mandelbrot=size=160x90:rate=30',
    '-filter_complex', '[1]trim=duration=2,setpts=PTS-STARTPTS[m];[0][m]concat=n=2:v=1:a=0,format=yuv420p[v]',
    '-map', '[v]', '-fps_mode', 'vfr', '-c:v', 'libx264', '-preset', 'ultrafast', out,
  ]);
}

/** ffprobe's packets of stream `stream` of `file`: pts, dts, size in bytes, flags. */
export async function packets(file: string, stream = 0): Promise<Array<{ pts: number; dts: number; size: number; key: boolean }>> {
  const { stdout } = await execa('ffprobe', ['-v', 'error', '-select_streams', String(stream), '-show_entries', 'packet=pts,dts,size,flags', '-of', 'json', file]);
  return (JSON.parse(stdout) as { packets: Array<{ pts: number; dts: number; size: string; flags: string }> }).packets.map((p) => ({
    pts: Number(p.pts), dts: Number(p.dts), size: Number(p.size), key: p.flags.startsWith('K'),
  }));
}

/** MD5 of every decoded frame of the first video stream (framemd5), in order. */
export async function frameHashes(file: string): Promise<string[]> {
  const { stdout } = await execa('ffmpeg', ['-v', 'error', '-i', file, '-map', '0:v:0', '-f', 'framemd5', '-']);
  return stdout.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(',').at(-1)!.trim());
}

/** One hash over the video stream's packets (`-c copy -f hash`): equal only when the coded video is byte-identical. */
export async function videoStreamHash(file: string): Promise<string> {
  const { stdout } = await execa('ffmpeg', ['-v', 'error', '-i', file, '-map', '0:v:0', '-c', 'copy', '-f', 'hash', '-hash', 'sha256', '-']);
  return stdout.trim();
}

/** Mean SSIM of `file` against `reference` (first video streams), frame n against frame n whatever their timestamps. */
export async function ssim(file: string, reference: string): Promise<number> {
  const byIndex = 'settb=1/1000,setpts=N*40';
  const graph = `[0:v:0]${byIndex}[a];[1:v:0]${byIndex}[b];[a][b]ssim`;
  const { stderr } = await execa('ffmpeg', ['-hide_banner', '-nostdin', '-i', file, '-i', reference, '-lavfi', graph, '-f', 'null', '-']);
  const m = /SSIM .* All:([0-9.]+)/.exec(stderr);
  if (!m) throw new Error(`no SSIM in ffmpeg's output: ${stderr.slice(-300)}`);
  return Number(m[1]);
}
