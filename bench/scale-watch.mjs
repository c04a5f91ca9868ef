// bench:scale, part `watch` (issue 16 §2): bench/watch-scan.mjs (a watch rule over
// 10,000 files in a tree) in a child process of its own, so the RSS it prints is
// the watching server's alone, on the stores of this run. Its report is returned
// to be printed with the others.
import { spawn } from 'node:child_process';
import { here, log, waitForQuiet } from './scale-lib.mjs';

/** Run bench/watch-scan.mjs on `stores`; its printed report, or undefined (a failure is added to `failures`). */
export async function runWatchBench(stores, { redisUrl, quietS, failures }) {
  await waitForQuiet('watch', quietS);
  log(`[watch] ${process.env.BENCH_WATCH_FILES ?? '10,000'} files in a tree, stores ${stores.join(', ')} (bench/watch-scan.mjs)`);
  const child = spawn(process.execPath, [here('./watch-scan.mjs')], {
    env: { ...process.env, BENCH_WATCH_STORES: stores.join(','), BENCH_REDIS: redisUrl },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const code = await new Promise((resolve) => child.once('exit', resolve));
  if (code !== 0) {
    failures.push(`watch: bench/watch-scan.mjs exited with ${code}`);
    return undefined;
  }
  return out.trimEnd();
}
