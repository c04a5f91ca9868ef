/**
 * The `.lua` files and their loading: `--!include` (nested, once per
 * script, a clear error for a missing file), every script compiling in
 * Redis, and each shared fragment written once and included verbatim.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { commandOf, defineScripts, loadLua, runScript, SCRIPT_KEYS, type ScriptName } from '../src/lua-scripts.js';

const LUA = new URL('../lua/', import.meta.url);
const names = Object.keys(SCRIPT_KEYS) as ScriptName[];
const dirs: string[] = [];

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A folder of Lua files (name -> text), as the `dir` of loadLua. */
function luaDir(files: Record<string, string>): URL {
  const dir = mkdtempSync(join(tmpdir(), 'sis-lua-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return pathToFileURL(`${dir}/`);
}

describe('loadLua', () => {
  it('replaces an include line by the file, nested, each file once per script', () => {
    const dir = luaDir({
      'main.lua': '--!include lib/a.lua\n--!include lib/b.lua\nreturn a() + b()\n',
      'lib/a.lua': '--!include lib/c.lua\nlocal function a() return c() end\n',
      'lib/b.lua': '--!include lib/c.lua\nlocal function b() return c() * 2 end\n',
      'lib/c.lua': 'local function c() return 1 end\n',
    });
    expect(loadLua('main.lua', dir)).toBe(
      [
        'local function c() return 1 end',
        'local function a() return c() end',
        '-- (lib/c.lua: included above)',
        'local function b() return c() * 2 end',
        'return a() + b()',
        '',
      ].join('\n'),
    );
  });

  it('leaves lines that only look like includes alone, and includes a file that includes itself once', () => {
    const dir = luaDir({
      'main.lua': '-- --!include nothing.lua\n  --!include indented.lua\n--!include self.lua\nreturn x\n',
      'self.lua': '--!include self.lua\nlocal x = 1\n',
    });
    expect(loadLua('main.lua', dir)).toBe('-- --!include nothing.lua\n  --!include indented.lua\n-- (self.lua: included above)\nlocal x = 1\nreturn x\n');
  });

  it('names the missing file and who included it', () => {
    const dir = luaDir({ 'main.lua': '--!include lib/gone.lua\nreturn 1\n' });
    expect(() => loadLua('main.lua', dir)).toThrow('cannot read Lua file lib/gone.lua (included by main.lua)');
    expect(() => loadLua('nope.lua', dir)).toThrow('cannot read Lua file nope.lua');
  });
});

describe('the store\'s scripts', () => {
  it('every .lua script is registered (and every registered one exists)', () => {
    const files = readdirSync(LUA).filter((f) => f.endsWith('.lua')).map((f) => f.slice(0, -'.lua'.length));
    expect(files.sort()).toEqual([...names].sort());
  });

  it('each script compiles in Redis, with no include left and each fragment in it once', async () => {
    const redis = new Redis('redis://127.0.0.1:6379/0');
    try {
      for (const name of names) {
        const source = loadLua(`${name}.lua`);
        expect(source, name).not.toMatch(/^--!include/m);
        for (const fn of source.match(/^local function \w+/gm) ?? []) expect(source.split(fn).length - 1, `${name}: ${fn}`).toBe(1);
        expect(await redis.script('LOAD', source), name).toMatch(/^[0-9a-f]{40}$/);
      }
    } finally {
      await redis.quit();
    }
  });

  it('a shared fragment is written once, and is verbatim in every script that uses it', () => {
    const fragments = readdirSync(new URL('fragments/', LUA));
    expect(fragments.sort()).toEqual([
      'bullmq-take.lua', 'byte-order.lua', 'finish-record.lua', 'gate-check.lua', 'hand-over-lock.lua', 'holder-check.lua', 'job-ended.lua', 'lease-next.lua',
      'lease-record.lua', 'listing-index.lua', 'ready-index.lua',
    ]);
    const users: Record<string, ScriptName[]> = {
      'holder-check.lua': ['finish', 'finish-lease', 'release', 'wait-children'],
      // Every end of a job (the flow rules run in the same script as the end), and the wait itself.
      'job-ended.lua': ['finish', 'finish-lease', 'expire', 'cancel', 'wait-children'],
      'gate-check.lua': ['lease', 'finish', 'finish-lease'],
      'hand-over-lock.lua': ['release', 'expire'],
      'lease-next.lua': ['lease', 'finish-lease'],
      'lease-record.lua': ['lease', 'finish-lease'],
      // Every script that takes a job in BullMQ: the leases, and a renewal that takes back a job or makes it active again.
      'bullmq-take.lua': ['lease', 'finish-lease', 'renew'],
      'finish-record.lua': ['finish', 'finish-lease'],
      'byte-order.lua': ['list-scan', 'queue-scan', 'lease', 'finish-lease'],
      // Every script that queues a job, puts it in a final state or removes it, and the backfill.
      'listing-index.lua': ['submit', 'retry', 'remove', 'finish', 'finish-lease', 'expire', 'cancel', 'purge', 'index-backfill', 'wait-children'],
      // Every script that makes a job ready to lease (BullMQ holds it) or takes it out of the queue, and the backfill.
      'ready-index.lua': ['enqueued', 'lease', 'finish', 'finish-lease', 'release', 'expire', 'cancel', 'remove', 'renew', 'wait-children', 'ready-backfill'],
    };
    for (const [fragment, scripts] of Object.entries(users)) {
      // The fragment's own lines (its includes aside) appear as they are in each user.
      const body = readFileSync(new URL(`fragments/${fragment}`, LUA), 'utf8').replace(/^--!include .*\n/gm, '').trimEnd();
      const using = names.filter((name) => loadLua(`${name}.lua`).includes(body));
      expect(using.sort(), fragment).toEqual([...scripts].sort());
    }
  });

  it('are ioredis commands on the connection, in pipelines too, and reloaded after SCRIPT FLUSH', async () => {
    const redis = new Redis('redis://127.0.0.1:6379/0');
    const key = `sis-lua-test-${process.pid}-${Date.now()}`;
    // A poll's lease on an empty store under `key`: the queue attributes `queue` decide whether its gate is closed.
    const leaseKeys = (queue: string) => [`${key}:leases`, `${key}:queued`, `${key}:running`, `${key}:outbox`, queue, `${key}:w`, `${key}:p`, `${key}:wait`, `${key}:a`, `${key}:e`];
    const leaseArgs = ['', '1', `${key}:`, '0', '2', 'now', 'token', '1000', `${key}:b:`, ':lock', '0'];
    try {
      defineScripts(redis);
      expect(typeof (redis as unknown as Record<string, unknown>)[commandOf('lease')]).toBe('function');
      await redis.hset(`${key}:q`, 'disabled', 'true');
      expect(await runScript(redis, 'lease', leaseKeys(`${key}:q`), leaseArgs)).toEqual([2, 'queue']);
      await redis.script('FLUSH');
      expect(await runScript(redis, 'lease', leaseKeys(`${key}:x`), leaseArgs)).toEqual([0]);
      const pipeline = redis.pipeline() as unknown as Record<string, (...args: string[]) => unknown> & { exec(): Promise<unknown> };
      pipeline[commandOf('lease')]!(...leaseKeys(`${key}:q`), ...leaseArgs);
      pipeline[commandOf('lease')]!(...leaseKeys(`${key}:x`), ...leaseArgs);
      expect(await pipeline.exec()).toEqual([
        [null, [2, 'queue']],
        [null, [0]],
      ]);
      expect(() => runScript(redis, 'lease', [`${key}:q`], leaseArgs)).toThrow('script lease takes 10 keys, not 1');
    } finally {
      await redis.del(`${key}:q`);
      await redis.quit();
    }
  });
});
