import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { loadOrCreateWorkerId } from '@sisyphus/core/worker';

// Each "worker" is a real process that claims an id in a shared state folder and holds it until its stdin closes.
const CLAIM = `
import { loadOrCreateWorkerId } from '@sisyphus/core/worker';
const id = await loadOrCreateWorkerId(process.argv[1]);
process.stdout.write(id + '\\n');
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
`;

const children: ChildProcess[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function stateDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sis-worker-id-'));
  dirs.push(dir);
  return dir;
}

/** Start a claiming process; resolves with it and the id it got. */
async function claim(dir: string): Promise<{ child: ChildProcess; id: string }> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', CLAIM, dir], { cwd: new URL('..', import.meta.url).pathname, stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += String(d)));
  while (!out.includes('\n')) {
    if (child.exitCode !== null) throw new Error(`claim exited with ${child.exitCode}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return { child, id: out.trim() };
}

/** The start time of `pid` in clock ticks, as the lock records it. */
const ticks = (pid: number) => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[19]!;

describe('worker ids in a shared state folder', () => {
  it('two live processes get two ids; a clean exit frees the id for the next start', async () => {
    const dir = await stateDir();
    const a = await claim(dir);
    const b = await claim(dir);
    expect(a.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(b.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(b.id).not.toBe(a.id);
    expect((await readFile(join(dir, 'worker-id'), 'utf8')).trim()).toBe(a.id);
    expect((await readFile(join(dir, 'worker-id-2'), 'utf8')).trim()).toBe(b.id);
    expect((await readFile(join(dir, 'worker-id.lock'), 'utf8')).split('\n').slice(0, 2)).toEqual([String(a.child.pid), hostname()]);

    a.child.stdin!.end();
    await once(a.child, 'exit');
    expect(existsSync(join(dir, 'worker-id.lock'))).toBe(false);
    // Restarted: the old id again, while b keeps its own.
    const again = await claim(dir);
    expect(again.id).toBe(a.id);
  });

  it('a killed worker\'s lock is taken over at once (its pid is gone)', async () => {
    const dir = await stateDir();
    const a = await claim(dir);
    a.child.kill('SIGKILL');
    await once(a.child, 'exit');
    expect(existsSync(join(dir, 'worker-id.lock'))).toBe(true);
    expect((await claim(dir)).id).toBe(a.id);
  });

  it('a lock whose pid now belongs to another process (pid reuse) is stale; a live one on another host is not', async () => {
    const dir = await stateDir();
    // This test process is alive, but it is not the process that wrote the lock (another start time).
    await writeFile(join(dir, 'worker-id'), 'old-id\n');
    await writeFile(join(dir, 'worker-id.lock'), `${process.pid}\n${hostname()}\n${Number(ticks(process.pid)) + 1}\n`);
    const first = await claim(dir);
    expect(first.id).toBe('old-id');
    // Another host's lock cannot be checked from here: left alone.
    const other = await stateDir();
    await writeFile(join(other, 'worker-id'), 'theirs\n');
    await writeFile(join(other, 'worker-id.lock'), `1\nsome-other-host\n\n`);
    const mine = await claim(other);
    expect(mine.id).not.toBe('theirs');
    expect((await readFile(join(other, 'worker-id-2'), 'utf8')).trim()).toBe(mine.id);
  });

  it('ten processes starting at once get ten distinct ids', async () => {
    const dir = await stateDir();
    const got = await Promise.all(Array.from({ length: 10 }, () => claim(dir)));
    expect(new Set(got.map((g) => g.id)).size).toBe(10);
  });

  it('the same process asking twice keeps its one id', async () => {
    const dir = await stateDir();
    const id = await loadOrCreateWorkerId(dir);
    expect(await loadOrCreateWorkerId(dir)).toBe(id);
    expect(existsSync(join(dir, 'worker-id-2'))).toBe(false);
  });
});
