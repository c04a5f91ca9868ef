import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@sisyphus/core';
import { buildRegistry, checkConfig, type LoadedPlugin } from '@sisyphus/core/config';
import cleanupPlugin from '@sisyphus/module-cleanup';
import { createServer, resolveServerOptions, type ServerOptions, type SisyphusServer } from '../src/index.js';
import { openSqliteStore } from '../src/store/sqlite-store.js';
import { workerScheduleBlock } from '../src/queue/applied-schedule.js';

const servers: SisyphusServer[] = [];
const dirs: string[] = [];
afterEach(async () => {
  while (servers.length) await servers.pop()!.close();
  while (dirs.length) rmSync(dirs.pop()!, { recursive: true, force: true });
});

const registry = buildRegistry([{ plugin: cleanupPlugin, source: '@sisyphus/module-cleanup' } as LoadedPlugin]);
/** The fake clock every server here runs on: Friday 2025-03-07 12:00 UTC. */
const clock = { now: Date.parse('2025-03-07T12:00:00Z') };
const set = (iso: string) => (clock.now = Date.parse(iso));

/** A real server on a real SQLite file, listening on a free port; `call` speaks HTTP to it. */
async function server(options: ServerOptions = {}, db = join(tempDir(), 'server.db')) {
  const s = await createServer(openSqliteStore(db), { sweepIntervalMs: 60_000, ...options }, { registry, now: () => clock.now });
  servers.push(s);
  const address = await s.app.listen({ port: 0, host: '127.0.0.1' });
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${address}${path}`, {
      method,
      ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
    });
    const text = await response.text();
    return { status: response.status, json: text ? JSON.parse(text) : undefined };
  };
  return { s, call };
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sis-schedule-'));
  dirs.push(dir);
  return dir;
}

const nights = { timezone: 'UTC', windows: [{ days: ['mon-fri'], from: '22:00', to: '07:00' }] };
const beat = (extra: Record<string, unknown> = {}) => ({ status: 'idle', hostname: 'h', version: '1', online_at: 'x', ...extra });
const job = { job_title: 'clean', tasks: [{ module: 'cleanup', data: { delete: ['/tmp/nothing-here'] } }] };

describe('a worker schedule through the API', () => {
  it('PATCH /workers/{id} {schedule}: 400 naming the field; a good one is stored normalised and shown with active and next_change', async () => {
    const { call } = await server();
    const bad = await call('PATCH', '/workers/w1', { schedule: { windows: [{ from: '22:00', to: '07:00' }, { from: '25:00', to: '07:00' }] } });
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ code: 'SIS_VALIDATION', message: 'schedule.windows[1].from must be HH:MM, 00:00 to 23:59 (got "25:00")' });
    expect((await call('PATCH', '/workers/w1', { schedule: { timezone: 'Moon/Base', windows: [{ from: '22:00', to: '07:00' }] } })).json.message).toBe(
      'schedule.timezone must be an IANA time zone such as Europe/Berlin or UTC (got "Moon/Base")',
    );
    // Nothing was stored by the refusals.
    expect((await call('GET', '/workers/w1')).json).toEqual({ worker_id: 'w1', attributes: { disabled: false } });

    const ok = await call('PATCH', '/workers/w1', { schedule: { timezone: 'utc', windows: [{ days: ['Mon-Fri'], from: '22:00', to: '07:00' }] } });
    expect(ok.status).toBe(200);
    expect(ok.json).toEqual({ disabled: false, schedule: nights });
    // Friday noon: off until Friday 22:00.
    await call('POST', '/workers/w1', beat());
    const seen = (await call('GET', '/workers/w1')).json;
    expect(seen.schedule).toEqual({ source: 'worker', schedule: nights, active: false, next_change: '2025-03-07T22:00:00.000Z' });
    set('2025-03-07T23:00:00Z');
    await call('POST', '/workers/w1', beat());
    const listed = (await call('GET', '/workers')).json.workers;
    expect(listed).toHaveLength(1);
    expect(listed[0].schedule).toMatchObject({ source: 'worker', active: true, next_change: '2025-03-08T07:00:00.000Z' });
    // A schedule without a zone gets the server's; null clears it.
    const zoned = await call('PATCH', '/workers/w2', { schedule: { windows: [{ from: '08:00', to: '18:00' }] } });
    expect(zoned.json.schedule.timezone).toBe(Intl.DateTimeFormat().resolvedOptions().timeZone);
    await call('PATCH', '/workers/w1', { schedule: null });
    expect((await call('GET', '/workers/w1')).json.schedule).toBeUndefined();
  });

  it("tag schedules (PATCH /queue {schedules}) apply to workers whose heartbeat carries the tag, all of them at once", async () => {
    const { call } = await server();
    set('2025-03-10T07:00:00Z'); // Monday
    const evenings = { timezone: 'UTC', windows: [{ from: '06:00', to: '22:00' }] };
    const night = { timezone: 'UTC', windows: [{ from: '20:00', to: '08:00' }] };
    expect((await call('PATCH', '/queue', { schedules: { gpu: night, office: evenings } })).status).toBe(200);
    await call('POST', '/workers/both', beat({ capabilities: { tags: ['gpu', 'office', 'fast-disk'] } }));
    await call('POST', '/workers/gpu-only', beat({ capabilities: { tags: ['gpu'] } }));
    await call('POST', '/workers/untagged', beat());
    // A worker's own schedule wins over its tags'.
    await call('PATCH', '/workers/own', { schedule: { timezone: 'UTC', windows: [{ from: '00:00', to: '24:00' }] } });
    await call('POST', '/workers/own', beat({ capabilities: { tags: ['gpu'] } }));

    const view = async (id: string) => (await call('GET', `/workers/${id}`)).json.schedule;
    expect(await view('both')).toEqual({ source: 'tags', tags: { gpu: night, office: evenings }, active: true, next_change: '2025-03-10T08:00:00.000Z' });
    expect(await view('gpu-only')).toEqual({ source: 'tags', tags: { gpu: night }, active: true, next_change: '2025-03-10T08:00:00.000Z' });
    expect(await view('untagged')).toBeUndefined();
    expect(await view('own')).toMatchObject({ source: 'worker', active: true, next_change: null });
    set('2025-03-10T12:00:00Z');
    // Tags come from the last heartbeat: once it has expired, none apply.
    expect(await view('both')).toBeUndefined();
    for (const [id, tags] of [['both', ['gpu', 'office', 'fast-disk']], ['gpu-only', ['gpu']], ['own', ['gpu']]] as const) {
      await call('POST', `/workers/${id}`, beat({ capabilities: { tags } }));
    }
    await call('POST', '/workers/untagged', beat());
    expect(await view('both')).toMatchObject({ active: false, next_change: '2025-03-10T20:00:00.000Z' });
    // GET /workers shows the same, reading the queue's attributes once.
    const listed = (await call('GET', '/workers')).json.workers as Array<{ worker_id: string; schedule?: { active: boolean } }>;
    expect(Object.fromEntries(listed.map((w) => [w.worker_id, w.schedule?.active]))).toEqual({ both: false, 'gpu-only': false, untagged: undefined, own: true });
    // Tags compare in lower case, as routing compares them: a schedule keyed `NIGHT` applies to a worker tagged `Night`.
    expect((await call('PATCH', '/queue', { schedules: { gpu: null, office: null, NIGHT: night } })).status).toBe(200);
    await call('POST', '/workers/mixed-case', beat({ capabilities: { tags: ['Night'] } }));
    expect(await view('mixed-case')).toMatchObject({ source: 'tags', active: false, next_change: '2025-03-10T20:00:00.000Z' });
  });

  it('a worker outside its hours is blocked from new jobs; the job it runs keeps its lease and its report goes through', async () => {
    const { s, call } = await server();
    const { store } = s.context;
    await call('PATCH', '/workers/w1', { schedule: nights });
    set('2025-03-07T21:59:00Z'); // Friday, a minute before the window
    await call('POST', '/workers/w1', beat());
    expect(await workerScheduleBlock(store, 'w1', clock.now)).toEqual({
      blocked: true,
      until: Date.parse('2025-03-07T22:00:00Z'),
      reason: 'this worker is outside its active hours until 2025-03-07T22:00:00.000Z (its own schedule)',
      schedule: expect.objectContaining({ source: 'worker', active: false }),
    });
    // Its poll gets no job, with the reason, although one is queued (an anonymous poll would get it).
    const { job_id } = (await call('POST', '/queue', job)).json;
    const refused = await call('GET', '/queue/poll?worker_id=w1');
    expect([refused.status, refused.json.message]).toEqual([404, 'this worker is outside its active hours until 2025-03-07T22:00:00.000Z (its own schedule)']);
    expect((await store.get(job_id))!.state).toBe('queued');
    // Inside: not blocked; it takes the job.
    set('2025-03-08T06:58:00Z');
    expect(await workerScheduleBlock(store, 'w1', clock.now)).toBeUndefined();
    const polled = await call('GET', '/queue/poll?worker_id=w1');
    expect([polled.status, polled.json.job_id]).toEqual([200, job_id]);
    // The window closes while it runs: heartbeats still renew the lease (no cancel), the report is accepted.
    set('2025-03-08T07:05:00Z');
    expect(await workerScheduleBlock(store, 'w1', clock.now)).toMatchObject({ until: Date.parse('2025-03-10T22:00:00Z') });
    const renewed = await call('POST', '/workers/w1', beat({ status: 'in_progress', job_id }));
    expect(renewed.json.cancel).toEqual([]);
    expect((await store.get(job_id))!.lease_expires).toBe(clock.now + 30_000);
    const done = await call('PATCH', `/jobs/${job_id}/completed`, { failed: false, info: { worker_id: 'w1', completed: true } });
    expect([done.status, done.json.state]).toEqual([200, 'completed']);
    // An anonymous poll names no worker: no schedule applies.
    expect(await workerScheduleBlock(store, '', clock.now)).toBeUndefined();
  });
});

describe('what a worker says of itself', () => {
  it('a heartbeat\'s own `schedule` field is not shown as the worker\'s schedule', async () => {
    const { call } = await server();
    await call('POST', '/workers/liar', beat({ schedule: { source: 'worker', active: true, next_change: null } }));
    expect((await call('GET', '/workers/liar')).json.schedule).toBeUndefined();
    expect((await call('GET', '/workers')).json.workers[0].schedule).toBeUndefined();
  });
});

describe('schedules in the server config', () => {
  it('seed the store at start: configured tags and workers replace what is stored for them, others stay', async () => {
    const db = join(tempDir(), 'server.db');
    const office = { timezone: 'Europe/Berlin', windows: [{ days: ['mon-fri'], from: '18:00', to: '08:00' }] };
    // A first run: tags set through the API.
    const first = await server({}, db);
    await first.call('PATCH', '/queue', { schedules: { gpu: nights, night: nights } });
    await first.s.close();
    servers.splice(servers.indexOf(first.s), 1);

    const { call } = await server({ schedules: { tags: { gpu: office }, workers: { 'box-1': { windows: [{ from: '01:00', to: '05:00' }] } } } }, db);
    const attributes = (await call('GET', '/queue')).json.attributes;
    expect(attributes.schedules).toEqual({ gpu: office, night: nights });
    const box = (await call('GET', '/workers/box-1')).json;
    expect(box.attributes.schedule).toEqual({ timezone: Intl.DateTimeFormat().resolvedOptions().timeZone, windows: [{ from: '01:00', to: '05:00' }] });
    expect(box.schedule).toMatchObject({ source: 'worker' });
  });

  it('a bad schedule in the config is a ConfigError naming the field; the config file schema takes the section', () => {
    const refused = (schedules: unknown) => {
      try {
        resolveServerOptions({ schedules } as ServerOptions);
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as Error).message;
      }
      throw new Error('accepted');
    };
    expect(refused({ tags: { gpu: { windows: [{ from: '22:00', to: '7' }] } } })).toBe('schedules.tags.gpu.windows[0].to must be HH:MM, 00:00 to 24:00 (got "7")');
    expect(refused({ tags: { 'fast disk': { windows: [{ from: '22:00', to: '07:00', days: ['weekday'] }] } } })).toMatch(/^schedules\.tags\["fast disk"\]\.windows\[0\]\.days\[0\] must be a day/);
    expect(refused({ workers: { 'bad id!': { windows: [{ from: '22:00', to: '07:00' }] } } })).toMatch(/^schedules\.workers\["bad id!"\] is not a worker id/);
    expect(refused({ nights: {} })).toBe('schedules.nights: unknown setting; use tags and/or workers');
    expect(resolveServerOptions({}).schedules).toEqual({ tags: {}, workers: {} });
    expect(() => checkConfig({ server: { schedules: { tags: { gpu: nights } } } }, 'test')).not.toThrow();
    expect(() => checkConfig({ server: { schedules: { tags: { gpu: { windows: [] } } } } }, 'test')).toThrow(/schedules/);
  });
});
