import { appendFile, mkdir, mkdtemp, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigError } from '@sisyphus/core';
import { buildRegistry, type LoadedPlugin, type WatchRuleConfig } from '@sisyphus/core/config';
import cleanupPlugin from '@sisyphus/module-cleanup';
import { createServer, type SisyphusServer, type TokenGrant } from '../src/index.js';
import { resolveServerOptions } from '../src/server-options.js';
import { openSqliteStore } from '../src/store/sqlite-store.js';
import type { WatchFileRecord } from '../src/store/watch-store.js';

// Watch folders end to end: a real server on port 0 with a SQLite file, real files in a temp
// folder, the HTTP API, and the test acting as the worker (poll, write outputs, report) where
// a job's end matters. Waits poll for conditions; nothing depends on timing but generous limits.

const registry = buildRegistry([{ plugin: cleanupPlugin, source: '@sisyphus/module-cleanup' } as LoadedPlugin]);

/** The job template: copy the file next to itself as STEM.copy.EXT (a file the job writes into the watched folder). */
const TEMPLATE = {
  job_title: 'watch {{ name }}',
  tasks: [{ module: 'cleanup', data: { copy: [{ source: '{{ source_file }}', destination: '{{ dir }}/{{ stem }}.copy.{{ ext }}' }] } }],
};

const ADMIN = 'admin-token-0123456789';
const SUBMITTER = 'submit-token-0123456789';

interface Setup {
  server: SisyphusServer;
  url: string;
  dir: string;
  folder: string;
  template: string;
  db: string;
  api<T = any>(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; json: T }>;
}

const servers: SisyphusServer[] = [];
const dirs: string[] = [];
afterEach(async () => {
  while (servers.length) await servers.pop()!.close();
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

/** Wait until `probe` answers something truthy (polling); fail with `what` after `ms`. */
async function until<T>(what: string, probe: () => Promise<T | undefined | false | null> | T | undefined | false | null, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function serve(dir: string, rules: Array<Partial<WatchRuleConfig>>, options: { tokens?: TokenGrant[]; db?: string } = {}): Promise<Setup> {
  const db = options.db ?? join(dir, 'server.db');
  const server = await createServer(openSqliteStore(db), { watch: rules as WatchRuleConfig[], ...(options.tokens ? { tokens: options.tokens } : {}) }, { registry });
  servers.push(server);
  const url = await server.app.listen({ port: 0, host: '127.0.0.1' });
  const api = async (method: string, path: string, body?: unknown, token?: string) => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    return { status: response.status, json: text ? JSON.parse(text) : undefined };
  };
  return { server, url, dir, folder: join(dir, 'in'), template: join(dir, 'template.json'), db, api };
}

/** A temp folder with `in/` and the template; a server watching `in/` with `rule` (name `in`). */
async function setup(rule: Partial<WatchRuleConfig> = {}, options: { tokens?: TokenGrant[] } = {}): Promise<Setup> {
  const dir = await mkdtemp(join(tmpdir(), 'sis-watch-'));
  dirs.push(dir);
  await mkdir(join(dir, 'in'));
  await writeFile(join(dir, 'template.json'), JSON.stringify(TEMPLATE));
  return serve(dir, [{ name: 'in', folders: [join(dir, 'in')], template: join(dir, 'template.json'), include: ['*.mkv'], stable_seconds: 1, ...rule }], options);
}

type Job = { job_id: string; job_title: string; state: string; tasks: Array<{ data: { copy: Array<{ source: string; destination: string }> } }> };

async function jobs(s: Setup): Promise<Job[]> {
  return (await s.api<{ jobs: Job[] }>('GET', '/jobs?limit=1000')).json.jobs;
}

async function record(s: Setup, path: string): Promise<WatchFileRecord | undefined> {
  const res = await s.api<WatchFileRecord>('GET', `/watch/rules/in/files?path=${encodeURIComponent(path)}`);
  return res.status === 200 ? res.json : undefined;
}

/** Has the rule judged the current version of `path` (submitted or skipped it)? */
function judged(s: Setup, path: string): boolean {
  return s.server.watch.runner('in')?.tracker.get(path)?.done === true;
}

/** Act as a worker: take job `id` from the queue and report it (after `work`, e.g. writing its output). */
async function runJob(s: Setup, id: string, outcome: { failed: boolean; work?: () => Promise<void> }): Promise<void> {
  const polled = await s.api<{ job_id: string }>('GET', '/queue/poll?worker_id=test-worker');
  expect(polled.status).toBe(200);
  expect(polled.json.job_id).toBe(id);
  await outcome.work?.();
  const done = await s.api('PATCH', `/jobs/${id}/completed`, { failed: outcome.failed, info: { worker_id: 'test-worker', ...(outcome.failed ? { message: 'boom' } : {}) } });
  expect(done.status).toBe(200);
}

describe('watch folders: files become jobs once, when stable', () => {
  it('a copy in progress is not picked until its size and time stay the same; then it is one job', async () => {
    const s = await setup({ stable_seconds: 3 });
    const file = join(s.folder, 'growing.mkv');
    await writeFile(file, 'x'.repeat(1000));
    // Grows in steps for about 3 s: never stable for 3 s meanwhile.
    for (let i = 0; i < 15; i++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      await appendFile(file, 'y'.repeat(1000));
      expect(await jobs(s)).toEqual([]);
      if (i === 5) {
        // Right after a step, a dry run says why.
        const dry = await s.api('POST', '/watch/rules/in/scan?dry_run=true');
        expect(dry.json.entries).toEqual([expect.objectContaining({ path: file, action: 'skip', skip: 'unstable', reason: expect.stringContaining('not stable yet') })]);
      }
    }
    const [job] = await until('the job of the copied file', async () => (await jobs(s)).length > 0 && (await jobs(s)));
    expect(job!.tasks[0]!.data.copy[0]!.source).toBe(file);
    expect(job!.job_title).toBe('watch growing.mkv');
    // The version submitted is the whole file.
    expect(await record(s, file)).toMatchObject({ size: 16_000, job_id: job!.job_id, outcome: 'pending' });
    await until('the file to be judged', () => judged(s, file));
    expect(await jobs(s)).toHaveLength(1);
  });

  it('a new file is one job; touched without change, none; changed, a new one', async () => {
    const s = await setup();
    const file = join(s.folder, 'show.mkv');
    await writeFile(file, 'first version');
    const [first] = await until('the first job', async () => (await jobs(s)).length === 1 && (await jobs(s)));
    // (A file whose job is still queued or running is left alone whatever happens to it: the job ends first.)
    await runJob(s, first!.job_id, { failed: false });
    await until('the job\'s end to be recorded', async () => (await record(s, file))?.outcome === 'completed');

    // Touched: a new modification time, the same content.
    const later = new Date(Date.now() + 60_000);
    await utimes(file, later, later);
    const touchedAt = (await stat(file)).mtimeMs;
    await until('the touch to be judged', async () => (await record(s, file))?.mtime_ms === touchedAt);
    expect((await jobs(s)).map((j) => j.job_id)).toEqual([first!.job_id]);
    expect(await record(s, file)).toMatchObject({ job_id: first!.job_id, size: 13 });

    // Changed: a new job, recorded for the new version.
    await writeFile(file, 'second version, longer');
    const all = await until('the second job', async () => (await jobs(s)).length === 2 && (await jobs(s)));
    const second = all.find((j) => j.job_id !== first!.job_id)!;
    expect(await record(s, file)).toMatchObject({ job_id: second.job_id, size: 22 });
    await until('the change to be judged', () => judged(s, file));

    // A scan now submits nothing: the new version's job is under way.
    const scan = await s.api('POST', '/watch/rules/in/scan');
    expect(scan.status).toBe(200);
    expect(scan.json).toMatchObject({ files: 1, submitted: 0, skipped: { 'in-progress': 1 } });
    expect(await jobs(s)).toHaveLength(2);
  });

  it('files a job writes into the folder are not new work, nor is a source its own job rewrote', async () => {
    const s = await setup();
    const file = join(s.folder, 'movie.mkv');
    const output = join(s.folder, 'movie.copy.mkv');
    await writeFile(file, 'the movie');
    const [job] = await until('the job', async () => (await jobs(s)).length === 1 && (await jobs(s)));
    // While the job runs its output is "to be written by" it.
    const pending = await s.api('POST', '/watch/rules/in/scan?dry_run=true');
    expect(pending.json.entries).toEqual(expect.arrayContaining([expect.objectContaining({ path: file, skip: 'in-progress', job_id: job!.job_id })]));
    await runJob(s, job!.job_id, {
      failed: false,
      work: async () => {
        await writeFile(output, 'the movie'); // the copy, as the cleanup task writes it
        await writeFile(file, 'the movie, transcoded in place'); // and its source rewritten
      },
    });
    await until('the job\'s end to be recorded', async () => (await record(s, file))?.outcome === 'completed');
    await until('the output to be judged', () => judged(s, output));
    await until('the rewritten source to be judged', () => judged(s, file));
    expect(await record(s, file)).toMatchObject({ job_id: job!.job_id, outcome: 'completed', written: true, size: 30 });
    const dry = await s.api('POST', '/watch/rules/in/scan?dry_run=true');
    expect(dry.json.entries).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: output, action: 'skip', skip: 'output', job_id: job!.job_id }),
        expect.objectContaining({ path: file, action: 'skip', skip: 'written', job_id: job!.job_id }),
      ]),
    );
    expect(await jobs(s)).toHaveLength(1);

    // A rule that says outputs are work takes the output (not the rewritten source).
    const t = await setup({ outputs_are_work: true });
    const source = join(t.folder, 'a.mkv');
    await writeFile(source, 'a');
    const [tJob] = await until('the job', async () => (await jobs(t)).length === 1 && (await jobs(t)));
    await runJob(t, tJob!.job_id, { failed: false, work: () => writeFile(join(t.folder, 'a.copy.mkv'), 'a') });
    const both = await until('the output\'s own job', async () => (await jobs(t)).length === 2 && (await jobs(t)));
    expect(both.map((j) => j.tasks[0]!.data.copy[0]!.source).sort()).toEqual([source, join(t.folder, 'a.copy.mkv')].sort());
  });

  it('failed jobs: an unchanged file is not submitted again; after max_failures the file needs attention until forgotten', async () => {
    const s = await setup({ max_failures: 2 });
    const file = join(s.folder, 'broken.mkv');
    await writeFile(file, 'v1');
    const [j1] = await until('job 1', async () => (await jobs(s)).length === 1 && (await jobs(s)));
    await runJob(s, j1!.job_id, { failed: true });
    await until('failure 1 to be recorded', async () => (await record(s, file))?.outcome === 'failed');
    expect(await record(s, file)).toMatchObject({ failures: 1, attention: false });
    // Unchanged: a scan leaves it alone.
    expect((await s.api('POST', '/watch/rules/in/scan')).json).toMatchObject({ submitted: 0, skipped: { unchanged: 1 } });

    await writeFile(file, 'v2 fixed?');
    const j2 = await until('job 2', async () => (await jobs(s)).find((j) => j.job_id !== j1!.job_id));
    await runJob(s, j2.job_id, { failed: true });
    await until('failure 2 to be recorded', async () => (await record(s, file))?.attention === true);
    expect(await record(s, file)).toMatchObject({ failures: 2, attention: true, outcome: 'failed' });
    const attention = await s.api('GET', '/watch/rules/in/attention');
    expect(attention.json.files).toEqual([expect.objectContaining({ path: file, failures: 2, job_id: j2.job_id })]);
    expect((await s.api('GET', '/watch/rules')).json.rules[0]).toMatchObject({ name: 'in', attention: 1 });

    // Changed again: no job while it needs attention.
    await writeFile(file, 'v3 another try');
    const v3 = (await stat(file)).mtimeMs;
    await until('v3 to be judged', async () => judged(s, file) && s.server.watch.runner('in')!.tracker.get(file)!.mtimeMs === v3);
    expect(await jobs(s)).toHaveLength(2);
    const dry = await s.api('POST', '/watch/rules/in/scan?dry_run=true');
    expect(dry.json.entries).toEqual([expect.objectContaining({ path: file, skip: 'attention', reason: expect.stringContaining('needs attention after 2 failed jobs') })]);

    // Forgotten: judged as new.
    expect((await s.api('DELETE', `/watch/rules/in/files?path=${encodeURIComponent(file)}`)).status).toBe(204);
    await until('job 3', async () => (await jobs(s)).length === 3);
  });

  it('a job the server refuses counts as a failure of that version, with the reason', async () => {
    const s = await setup();
    // A template whose job the cleanup schema refuses (copy needs source and destination).
    await writeFile(s.template, JSON.stringify({ job_title: 'bad {{ name }}', tasks: [{ module: 'cleanup', data: { copy: [{ source: '{{ source_file }}' }] } }] }));
    const file = join(s.folder, 'x.mkv');
    await writeFile(file, 'x');
    const refused = await until('the refusal', async () => (await record(s, file))?.outcome === 'failed' && (await record(s, file)));
    expect(refused).toMatchObject({ failures: 1, error: expect.stringContaining('destination') });
    expect(refused.job_id).toBeUndefined();
    expect(await jobs(s)).toEqual([]);
  });
});

describe('watch folders: dry run', () => {
  it('lists what would be submitted and why each other file is skipped; submits and writes nothing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sis-watch-dry-'));
    dirs.push(dir);
    const folder = join(dir, 'in');
    await mkdir(join(folder, 'sub', '.sisyphus-tmp-0a1b2c'), { recursive: true });
    await writeFile(join(dir, 'template.json'), JSON.stringify(TEMPLATE));
    const past = new Date(Date.now() - 3600_000);
    const file = async (name: string, content: string, old = true) => {
      const path = join(folder, name);
      await writeFile(path, content);
      if (old) await utimes(path, past, past);
      return path;
    };
    const fresh = await file('sub/new.mkv', 'new');
    const young = await file('young.mkv', 'young', false);
    const notes = await file('notes.txt', 'notes');
    const sample = await file('movie-sample.mkv', 'sample');
    const known = await file('known.mkv', 'known');
    const out = await file('out.mkv', 'output');
    const stuck = await file('stuck.mkv', 'stuck v9');
    await file('sub/.sisyphus-tmp-0a1b2c/partial.mkv', 'partial');
    // Another server holds the rule's scanner lease: this one only answers dry runs.
    const store = openSqliteStore(join(dir, 'server.db'));
    await store.watch.lease('dry', 'another-server', 600_000, Date.now());
    const knownStat = await stat(known);
    const outStat = await stat(out);
    await store.watch.putFiles([
      { rule: 'dry', path: known, size: knownStat.size, mtime_ms: knownStat.mtimeMs, fingerprint: 'h1:whatever', job_id: 'job-old', outcome: 'completed', failures: 0, attention: false, updated_at: Date.now() },
      { rule: 'dry', path: stuck, size: 1, mtime_ms: 1, fingerprint: 'h1:v1', job_id: 'job-failed', outcome: 'failed', failures: 3, attention: true, updated_at: Date.now() },
    ]);
    await store.watch.putOutputs([{ path: out, job_id: 'job-writer', size: outStat.size, mtime_ms: outStat.mtimeMs, fingerprint: 'h1:x', at: Date.now() }]);
    await store.close();

    const s = await serve(dir, [{ name: 'dry', folders: [folder], template: join(dir, 'template.json'), include: ['*.mkv'], exclude: ['*-sample.*'], stable_seconds: 0, min_age_seconds: 600 }], { db: join(dir, 'server.db') });
    const dry = await s.api('POST', '/watch/rules/dry/scan?dry_run=true');
    expect(dry.status).toBe(200);
    const byPath = Object.fromEntries((dry.json.entries as Array<{ path: string }>).map((e) => [e.path, e]));
    expect(byPath[fresh]).toMatchObject({ action: 'submit', reason: 'new file' });
    expect(byPath[young]).toMatchObject({ action: 'skip', skip: 'too-new', reason: expect.stringContaining('min_age_seconds') });
    expect(byPath[notes]).toMatchObject({ action: 'skip', skip: 'not-included' });
    expect(byPath[sample]).toMatchObject({ action: 'skip', skip: 'excluded', reason: expect.stringContaining('*-sample.*') });
    expect(byPath[known]).toMatchObject({ action: 'skip', skip: 'unchanged', reason: 'unchanged since job job-old (completed)', job_id: 'job-old' });
    expect(byPath[out]).toMatchObject({ action: 'skip', skip: 'output', reason: 'an output of job job-writer' });
    expect(byPath[stuck]).toMatchObject({ action: 'skip', skip: 'attention' });
    // Sisyphus' own working folders are not even walked.
    expect(Object.keys(byPath).some((p) => p.includes('.sisyphus-tmp-'))).toBe(false);
    expect(dry.json).toMatchObject({ dry_run: true, files: 5, submitted: 1, skipped: { 'too-new': 1, 'not-included': 1, excluded: 1, unchanged: 1, output: 1, attention: 1 } });
    // Nothing happened.
    expect(await jobs(s)).toEqual([]);
    expect(await hasRecord(s, fresh)).toBe(false);
    // A real scan belongs to the server holding the lease.
    const real = await s.api('POST', '/watch/rules/dry/scan');
    expect(real.status).toBe(409);
    expect(real.json.message).toContain('another-server');

    // The CLI's dry run (the operator command, against this server).
    const { main } = await import('@sisyphus/core/cli');
    let printed = '';
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      printed += String(chunk);
      return true;
    });
    let code: number;
    let listed = '';
    try {
      expect(await main(['watch', '--api', s.url])).toBe(0);
      listed = printed;
      printed = '';
      code = await main(['watch', '--dry-run', '--rule', 'dry', '--api', s.url]);
    } finally {
      write.mockRestore();
    }
    expect(code).toBe(0);
    expect(listed).toContain(`dry (config)  ${folder} -> ${join(dir, 'template.json')}`);
    expect(listed).toContain('scanned by another-server; not scanned yet');
    expect(printed).toContain('rule dry: 1 file(s) would be submitted');
    expect(printed).toContain(`submit  ${fresh}  (new file)`);
    expect(printed).toContain(`skip    ${known}  unchanged: unchanged since job job-old (completed)`);
    expect(printed).toContain(`skip    ${young}  too-new:`);
  });
});

/** Has rule `dry` a record of `path`? */
async function hasRecord(s: Setup, path: string): Promise<boolean> {
  return (await s.api('GET', `/watch/rules/dry/files?path=${encodeURIComponent(path)}`)).status === 200;
}

describe('watch folders: rules in the config and through the API', () => {
  it('refuses bad rules with one line naming the field', async () => {
    const base = { name: 'r', folders: ['/srv/in'], template: '/srv/t.json' };
    const message = (watch: unknown) => {
      try {
        resolveServerOptions({ watch: watch as WatchRuleConfig[] });
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        expect((error as Error).message).not.toContain('\n');
        return (error as Error).message;
      }
      return 'accepted';
    };
    expect(message([base])).toBe('accepted');
    expect(message({})).toMatch(/^watch must be a list/);
    expect(message([{ ...base, folders: ['relative/in'] }])).toMatch(/^watch\[0\]\.folders\[0\] must be an absolute path/);
    expect(message([base, { ...base, template: 'job.yaml' }])).toMatch(/^watch\[1\]\.template must be an absolute path/);
    expect(message([{ ...base, stable_seconds: -1 }])).toMatch(/^watch\[0\]\.stable_seconds /);
    expect(message([{ ...base, folders: [] }])).toMatch(/^watch\[0\]\.folders /);
    expect(message([{ ...base, name: 'bad name' }])).toMatch(/^watch\[0\]\.name /);
    expect(message([{ ...base, colour: 'red' }])).toMatch(/^watch\[0\]\.colour is not an allowed field/);
    expect(message([{ ...base, include: ['[abc'] }])).toMatch(/^watch\[0\]\.include\[0\] is not a valid glob pattern/);
    expect(message([{ ...base, variables: { dir: '/x' } }])).toMatch(/^watch\[0\]\.variables\.dir is set by the server/);
    expect(message([base, base])).toMatch(/^watch\[1\]\.name "r" is also the name of watch\[0\]/);
    const { template: _template, ...noTemplate } = base;
    expect(message([noTemplate])).toMatch(/^watch\[0\]\.template is required/);

    // A template that cannot be used stops the server at start, naming the rule.
    const dir = await mkdtemp(join(tmpdir(), 'sis-watch-bad-'));
    dirs.push(dir);
    const missing = createServer(openSqliteStore(':memory:'), { watch: [{ name: 'r', folders: [dir], template: join(dir, 'none.json') }] }, { registry });
    await expect(missing).rejects.toThrow(/^watch\[0\]\.template: template .*none\.json cannot be read: ENOENT/);
    await writeFile(join(dir, 'unfilled.json'), JSON.stringify({ job_title: '{{ name }} at {{ crf }}', tasks: [] }));
    const unfilled = createServer(openSqliteStore(':memory:'), { watch: [{ name: 'r', folders: [dir], template: join(dir, 'unfilled.json') }] }, { registry });
    await expect(unfilled).rejects.toThrow(/\{\{ crf \}\}, which no variable fills/);
  });

  it('rules made through the API (admin only) are kept in the store, survive a restart, and are scanned', async () => {
    const tokens: TokenGrant[] = [
      { token: ADMIN, role: 'admin', name: 'ops' },
      { token: SUBMITTER, role: 'submitter', name: 'ci' },
    ];
    const s = await setup({ name: 'fromconfig' }, { tokens });
    const other = join(s.dir, 'api-in');
    await mkdir(other);
    const rule = { folders: [other], template: s.template, include: ['*.mkv'], stable_seconds: 1, variables: { crf: 19 } };
    expect((await s.api('GET', '/watch/rules', undefined, SUBMITTER)).status).toBe(403);
    expect((await s.api('PUT', '/watch/rules/api', rule, SUBMITTER)).status).toBe(403);
    const bad = await s.api('PUT', '/watch/rules/api', { ...rule, folders: ['rel'], max_failures: 0 }, ADMIN);
    expect(bad.status).toBe(400);
    expect(bad.json.problems.map((p: { path: string }) => p.path)).toEqual(['max_failures']);
    const bad2 = await s.api('PUT', '/watch/rules/api', { ...rule, folders: ['rel'] }, ADMIN);
    expect(bad2.json.problems).toEqual([{ path: 'folders[0]', message: 'must be an absolute path (got "rel")' }]);
    const noTemplate = await s.api('PUT', '/watch/rules/api', { ...rule, template: join(s.dir, 'none.json') }, ADMIN);
    expect(noTemplate.status).toBe(400);
    expect(noTemplate.json.problems[0].path).toBe('template');
    expect((await s.api('PUT', '/watch/rules/fromconfig', rule, ADMIN)).status).toBe(409);
    const created = await s.api('PUT', '/watch/rules/api', rule, ADMIN);
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ name: 'api', source: 'api', rule: { ...rule, name: 'api' } });
    expect((await s.api('PUT', '/watch/rules/api', rule, ADMIN)).status).toBe(200);
    await writeFile(join(other, 'a.mkv'), 'a');
    await until('the API rule\'s job', async () => (await s.api<{ jobs: Job[] }>('GET', '/jobs', undefined, ADMIN)).json.jobs.length === 1);
    const listed = (await s.api('GET', '/watch/rules', undefined, ADMIN)).json.rules;
    expect(listed.map((r: { name: string; source: string }) => [r.name, r.source])).toEqual([
      ['api', 'api'],
      ['fromconfig', 'config'],
    ]);
    expect(listed[0]).toMatchObject({ scanning_here: true, scanner: s.server.watch.owner, last_scan: { files: expect.any(Number) } });

    // Restart on the same file: the rule is back, and the known file is not submitted again.
    await servers.pop()!.close();
    const again = await serve(s.dir, [{ name: 'fromconfig', folders: [s.folder], template: s.template, stable_seconds: 1 }], { tokens, db: s.db });
    const view = await until('the rule after the restart', async () => {
      const r = await again.api('GET', '/watch/rules/api', undefined, ADMIN);
      return r.status === 200 && r.json.last_scan?.scanner === again.server.watch.owner && r.json;
    });
    expect(view).toMatchObject({ source: 'api', rule: { variables: { crf: 19 } }, last_scan: { submitted: 0 } });
    expect((await again.api<{ jobs: Job[] }>('GET', '/jobs', undefined, ADMIN)).json.jobs).toHaveLength(1);
    expect((await again.api('DELETE', '/watch/rules/fromconfig', undefined, ADMIN)).status).toBe(409);
    expect((await again.api('DELETE', '/watch/rules/api', undefined, ADMIN)).status).toBe(204);
    expect((await again.api('GET', '/watch/rules/api', undefined, ADMIN)).status).toBe(404);
    expect((await again.api('DELETE', '/watch/rules/api', undefined, ADMIN)).status).toBe(404);
  });
});
