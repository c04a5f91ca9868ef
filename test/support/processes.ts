import { readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Poll `check` every 100 ms until it gives a truthy value; throws naming `what` after `ms`. */
export async function until<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Is `pid` running (a zombie is not)? */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Pids of running ffmpeg processes whose parent is `pid`. */
export function ffmpegChildren(pid: number): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .filter((e) => {
      try {
        const fields = readFileSync(`/proc/${e}/stat`, 'utf8').split(') ')[1]!.split(' ');
        return fields[0] !== 'Z' && Number(fields[1]) === pid && readFileSync(`/proc/${e}/cmdline`, 'utf8').includes('ffmpeg');
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** A one-task ffmpeg job re-encoding the first video stream of `source` with x264. */
export function encodeJob(title: string, source: string, out: string, preset = 'ultrafast') {
  return {
    job_title: title,
    tasks: [
      {
        module: 'ffmpeg',
        data: {
          sources: [source],
          source_maps: [{ source: 0, specifier: 'v', stream: 0 }],
          output_maps: [{ specifier: 'v', stream: 0, options: { codec: 'libx264', preset } }],
          output_file: out,
          overwrite: true,
        },
      },
    ],
  };
}
