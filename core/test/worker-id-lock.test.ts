import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, readlinkSync, statSync, utimesSync } from 'node:fs';
import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { loadOrCreateWorkerId } from '@sisyphus/core/worker';

// Each "worker" is a real process that claims an id in a state folder and holds it until its stdin closes.
// argv: state folder, JSON { options?: ClaimWorkerIdOptions, release?: boolean }. Prints one JSON line per warning, then the result (or the error).
const CLAIM = `
import { claimWorkerId } from '@sisyphus/core/worker';
const [dir, json] = process.argv.slice(1);
const { options = {}, release = false } = JSON.parse(json || '{}');
const say = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
const logger = { debug() {}, info() {}, warn: (m) => say({ warn: m }), error: (m) => say({ warn: m }) };
try {
  const got = await claimWorkerId(dir, { ...options, logger });
  if (release) got.release();
  say({ id: got.id, instance: got.instance, readOnly: got.readOnly ?? false });
} catch (error) {
  say({ error: String(error.message), code: error.code });
  process.exit(3);
}
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
`;

const children: ChildProcess[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) killGroup(child);
  for (const dir of dirs.splice(0)) {
    chmodSync(dir, 0o700);
    await rm(dir, { recursive: true, force: true });
  }
});

/** Each child leads its own process group: a hard kill reaches the node inside unshare/setpriv too. */
function killGroup(child: ChildProcess): void {
  try {
    process.kill(-child.pid!, 'SIGKILL');
  } catch {
    // Gone already.
  }
}

async function stateDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sis-worker-id-'));
  dirs.push(dir);
  return dir;
}

interface Claimed {
  child: ChildProcess;
  id?: string;
  instance?: number;
  readOnly?: boolean;
  error?: string;
  code?: string;
  warnings: string[];
  ms: number;
}

interface ClaimArgs {
  options?: { lockRefreshMs?: number; lockStaleMs?: number };
  release?: boolean;
  /** A command the claiming node runs under (unshare, setpriv). */
  wrap?: string[];
}

/** Start a claiming process; resolves with it and what it printed once it has an id or an error. */
async function claim(dir: string, args: ClaimArgs = {}): Promise<Claimed> {
  const argv = [...(args.wrap ?? []), process.execPath, '--input-type=module', '-e', CLAIM, dir, JSON.stringify({ options: args.options, release: args.release })];
  const started = Date.now();
  const child = spawn(argv[0]!, argv.slice(1), { cwd: new URL('..', import.meta.url).pathname, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += String(d)));
  child.stderr!.on('data', (d) => (err += String(d)));
  const warnings: string[] = [];
  for (;;) {
    const lines = out.split('\n').slice(0, -1).map((l) => JSON.parse(l) as Record<string, unknown>);
    const last = lines.find((l) => 'id' in l || 'error' in l);
    if (last) {
      for (const l of lines) if (typeof l.warn === 'string') warnings.push(l.warn);
      return { child, ...(last as object), warnings, ms: Date.now() - started };
    }
    if (child.exitCode !== null) throw new Error(`claim exited with ${child.exitCode}: ${err}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Run under a pid namespace of its own, with host name `host` (what a container with --network host looks like to us). */
const inContainer = (host: string) => ['unshare', '-u', '-p', '-f', '--mount-proc', '--', 'sh', '-c', 'hostname "$1"; shift; exec "$@"', 'sh', host];

/** Run as user nobody: root ignores file modes, so a read-only folder is tested with a real non-root uid. */
const asNobody = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];

async function hardKill(child: ChildProcess): Promise<void> {
  const exited = once(child, 'exit');
  killGroup(child);
  await exited;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The start time of `pid` in clock ticks, as the lock records it. */
const ticks = (pid: number) => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[19]!;
const myNs = readlinkSync('/proc/self/ns/pid');
const myBoot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();

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
    expect((await readFile(join(dir, 'worker-id.lock'), 'utf8')).split('\n')).toEqual([String(a.child.pid), hostname(), ticks(a.child.pid!), myNs, myBoot, '']);

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
    await hardKill(a.child);
    expect(existsSync(join(dir, 'worker-id.lock'))).toBe(true);
    const again = await claim(dir);
    expect(again.id).toBe(a.id);
    expect(again.ms).toBeLessThan(10_000); // no stale wait: the default limit is 60 s
  });

  it('a lock whose pid now belongs to another process (pid reuse) is stale; a live pid in our namespace under another host name is not', async () => {
    const dir = await stateDir();
    // This test process is alive, but it is not the process that wrote the lock (another start time).
    await writeFile(join(dir, 'worker-id'), 'old-id\n');
    await writeFile(join(dir, 'worker-id.lock'), `${process.pid}\n${hostname()}\n${Number(ticks(process.pid)) + 1}\n${myNs}\n${myBoot}\n`);
    expect((await claim(dir)).id).toBe('old-id');
    // Same boot and pid namespace (e.g. containers sharing the host's pids): the pid decides, whatever the host name says.
    const other = await stateDir();
    await writeFile(join(other, 'worker-id'), 'theirs\n');
    await writeFile(join(other, 'worker-id.lock'), `${process.pid}\nsome-container\n${ticks(process.pid)}\n${myNs}\n${myBoot}\n`);
    const mine = await claim(other);
    expect(mine.id).not.toBe('theirs');
    expect(mine.instance).toBe(2);
    expect(mine.ms).toBeLessThan(10_000);
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

describe('locks that cannot be checked by pid (another pid namespace, host or boot)', () => {
  const fast = { lockRefreshMs: 200, lockStaleMs: 1500 };

  it('two workers with one host name in separate pid namespaces get two ids, also long after the stale limit', async () => {
    const dir = await stateDir();
    // Both run as pid 1 of their namespace, and that pid is alive in the other one too.
    const a = await claim(dir, { wrap: inContainer('encoder'), options: fast });
    expect(a.instance).toBe(1);
    const lock = join(dir, 'worker-id.lock');
    const before = statSync(lock).mtimeMs;
    await sleep(fast.lockStaleMs + 1000);
    const refreshed = statSync(lock).mtimeMs > before;
    const b = await claim(dir, { wrap: inContainer('encoder'), options: fast });
    expect(b.error).toBeUndefined();
    expect(b.id).not.toBe(a.id);
    expect(b.instance).toBe(2);
    expect(refreshed).toBe(true); // the holder keeps it fresh
    expect((await readFile(join(dir, 'worker-id'), 'utf8')).trim()).toBe(a.id);
    expect((await readFile(lock, 'utf8')).split('\n')[0]).toBe('1'); // still a's
  });

  it('a hard-killed worker restarted under a new host name and namespace gets its id back after the stale limit', async () => {
    const dir = await stateDir();
    const a = await claim(dir, { wrap: inContainer('c0ffee000001'), options: fast });
    await hardKill(a.child);
    expect(existsSync(join(dir, 'worker-id.lock'))).toBe(true);
    const b = await claim(dir, { wrap: inContainer('c0ffee000002'), options: fast });
    expect(b.id).toBe(a.id);
    expect(b.instance).toBe(1);
    expect(b.ms).toBeLessThan(fast.lockStaleMs + 5000); // a bounded wait
    expect(existsSync(join(dir, 'worker-id-2'))).toBe(false);
  });

  it('another host\'s lock is left alone while it is refreshed, taken over at once when old; an older version\'s too', async () => {
    const dir = await stateDir();
    await writeFile(join(dir, 'worker-id'), 'theirs\n');
    const lock = join(dir, 'worker-id.lock');
    await writeFile(lock, `1\nsome-other-host\n\n${myNs}\nother-boot\n`);
    // That host's worker refreshes its lock.
    const touch = setInterval(() => utimesSync(lock, new Date(), new Date()), 100);
    try {
      const mine = await claim(dir, { options: fast });
      expect(mine.id).not.toBe('theirs');
      expect(mine.instance).toBe(2);
    } finally {
      clearInterval(touch);
    }

    // Not refreshed for an hour: taken over without waiting (default limit, 60 s).
    for (const text of [`1\nsome-other-host\n\nother-ns\nother-boot\n`, `1\nsome-other-host\n\n`, `${process.pid}\n${hostname()}\n${ticks(process.pid)}\n${myNs}\nan-earlier-boot\n`]) {
      const old = await stateDir();
      await writeFile(join(old, 'worker-id'), 'theirs\n');
      await writeFile(join(old, 'worker-id.lock'), text);
      const anHourAgo = new Date(Date.now() - 3600_000);
      utimesSync(join(old, 'worker-id.lock'), anHourAgo, anHourAgo);
      const got = await claim(old);
      expect(got.id).toBe('theirs');
      expect(got.ms).toBeLessThan(10_000);
    }
  });

  it('a released lock stays released (its refresh timer stops)', async () => {
    const dir = await stateDir();
    const a = await claim(dir, { options: fast, release: true });
    expect(a.instance).toBe(1);
    await sleep(fast.lockRefreshMs * 4);
    expect(a.child.exitCode).toBeNull();
    expect(existsSync(join(dir, 'worker-id.lock'))).toBe(false);
  });
});

describe('a state folder the worker cannot write', () => {
  it('falls back to the id kept there, with a warning', async () => {
    const dir = await stateDir();
    await writeFile(join(dir, 'worker-id'), 'kept-id\n');
    chmodSync(dir, 0o555);
    const got = await claim(dir, { wrap: asNobody });
    expect(got.error).toBeUndefined();
    expect(got.id).toBe('kept-id');
    expect(got.readOnly).toBe(true);
    expect(got.warnings.join('\n')).toContain(`${dir} is not writable`);
    expect(got.warnings.join('\n')).toContain('HOST_UUID');
    expect(existsSync(join(dir, 'worker-id.lock'))).toBe(false);
  });

  it('is a ConfigError naming the folder and the ways out when it holds no id', async () => {
    const dir = await stateDir();
    chmodSync(dir, 0o555);
    const got = await claim(dir, { wrap: asNobody });
    expect(got.id).toBeUndefined();
    expect(got.code).toBe('SIS_CONFIG_INVALID');
    expect(got.error).toContain(dir);
    expect(got.error).toMatch(/worker\.id/);
    expect(got.error).toMatch(/HOST_UUID/);
    expect(got.error).toMatch(/stateDir/);
  });
});

describe('symbolic links in the state folder are not followed', () => {
  it('a worker-id linked to a secret file is refused, and the secret is not used as the id', async () => {
    const dir = await stateDir();
    const secretDir = await stateDir();
    await writeFile(join(secretDir, 'secret'), 'TOPSECRET\n');
    await symlink(join(secretDir, 'secret'), join(dir, 'worker-id'));
    const got = await claim(dir);
    expect(got.id).toBeUndefined();
    expect(got.code).toBe('SIS_CONFIG_INVALID');
    expect(got.error).toContain(`${join(dir, 'worker-id')} is a symbolic link`);
    expect(JSON.stringify(got)).not.toContain('TOPSECRET');
    expect(existsSync(join(dir, 'worker-id.lock'))).toBe(false); // given up again
  });

  it('a dangling worker-id link is refused and its target not created', async () => {
    const dir = await stateDir();
    const elsewhere = await stateDir();
    await symlink(join(elsewhere, 'planted'), join(dir, 'worker-id'));
    const got = await claim(dir);
    expect(got.code).toBe('SIS_CONFIG_INVALID');
    expect(got.error).toContain(`${join(dir, 'worker-id')} is a symbolic link`);
    expect(existsSync(join(elsewhere, 'planted'))).toBe(false);
  });

  it('a lock file that is a link (dangling or not) is refused and its target left alone', async () => {
    const dir = await stateDir();
    const elsewhere = await stateDir();
    await symlink(join(elsewhere, 'planted'), join(dir, 'worker-id.lock'));
    const got = await claim(dir);
    expect(got.code).toBe('SIS_CONFIG_INVALID');
    expect(got.error).toContain(`${join(dir, 'worker-id.lock')} is a symbolic link`);
    expect(existsSync(join(elsewhere, 'planted'))).toBe(false);

    const other = await stateDir();
    await writeFile(join(elsewhere, 'target'), 'not a lock\n');
    await symlink(join(elsewhere, 'target'), join(other, 'worker-id.lock'));
    const again = await claim(other);
    expect(again.error).toContain(`${join(other, 'worker-id.lock')} is a symbolic link`);
    expect(readFileSync(join(elsewhere, 'target'), 'utf8')).toBe('not a lock\n');
    expect(existsSync(join(other, 'worker-id'))).toBe(false);
  });
});
