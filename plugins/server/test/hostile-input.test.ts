import { afterEach, describe, expect, it } from 'vitest';
import { request as httpRequest } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { ConfigError } from '@sisyphus/core';
import { buildRegistry, type LoadedPlugin } from '@sisyphus/core/config';
import cleanupPlugin from '@sisyphus/module-cleanup';
import { createServer, resolveServerOptions, startServer, type StartServerOptions, type StartedServer } from '../src/index.js';
import { MAX_JSON_DEPTH, jsonDepthExceeds } from '../src/json-body-parser.js';
import { openSqliteStore } from '../src/store/sqlite-store.js';

// Issue 11 §4: a hostile web page in the operator's browser, hostile bodies, bad token settings.
const registry = buildRegistry([{ plugin: cleanupPlugin, source: '@sisyphus/module-cleanup' } as LoadedPlugin]);
const started: StartedServer[] = [];
afterEach(async () => {
  while (started.length) await started.pop()!.close();
});

async function serve(options: StartServerOptions = {}): Promise<StartedServer & { port: number }> {
  const s = await startServer({ host: '127.0.0.1', port: 0, db: ':memory:', registry, ...options });
  started.push(s);
  return { ...s, port: Number(new URL(s.url).port) };
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json(): { message?: string } & Record<string, unknown>;
}

/** A real HTTP request with any headers (fetch() will not forge Host). */
function call(port: number, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, method, path, headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text, json: () => JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const job = (title = 't') => JSON.stringify({ job_title: title, tasks: [{ module: 'cleanup', data: { delete: ['/tmp/none'] } }] });
const queued = async (port: number) => ((await call(port, 'GET', '/queue')).json().entries as number);

describe('a hostile browser: Host and Origin', () => {
  it('the default server refuses a foreign Host with 421 and accepts loopback names', async () => {
    const { port } = await serve();
    const forged = await call(port, 'GET', '/queue', { host: `evil.example:${port}` });
    expect(forged.status).toBe(421);
    expect(forged.json()).toEqual({ message: expect.stringContaining(`"evil.example:${port}"`) });
    expect(forged.body).not.toContain('\n');
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, 'LOCALHOST', `127.0.0.2:${port}`]) {
      expect((await call(port, 'GET', '/queue', { host })).status, host).toBe(200);
    }
    // A rebinding page cannot even learn that the server is up, nor act through it.
    expect((await call(port, 'GET', '/status/health', { host: 'evil.example' })).status).toBe(421);
    expect((await call(port, 'DELETE', '/queue', { host: 'evil.example' })).status).toBe(421);
    expect((await call(port, 'POST', '/queue', { host: 'rebind.evil.example' }, job())).status).toBe(421);
    expect(await queued(port)).toBe(0);
  });

  it('refuses a foreign Origin with 403 and no CORS headers: nothing is cleared, submitted or rewritten', async () => {
    const { port, url } = await serve();
    const evil = { origin: 'http://evil.example', 'sec-fetch-site': 'cross-site' };
    expect((await call(port, 'POST', '/queue', {}, job('kept'))).status).toBe(200);
    const cleared = await call(port, 'DELETE', '/queue', evil);
    expect(cleared.status).toBe(403);
    expect(cleared.headers['access-control-allow-origin']).toBeUndefined();
    expect(cleared.json().message).toContain('"http://evil.example"');
    expect((await call(port, 'POST', '/queue', { origin: 'http://evil.example' }, job())).status).toBe(403);
    expect((await call(port, 'POST', '/data/ffmpeg/x265', { origin: 'null' }, JSON.stringify({ options: { crf: 51 } }))).status).toBe(403);
    expect((await call(port, 'PATCH', '/queue', evil, JSON.stringify({ disabled: true }))).status).toBe(403);
    const preflight = await call(port, 'OPTIONS', '/queue', { origin: 'http://evil.example', 'access-control-request-method': 'PATCH' });
    expect(preflight.status).toBe(403);
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
    expect(await queued(port)).toBe(1);
    expect((await call(port, 'GET', '/data/ffmpeg/x265')).status).toBe(404);
    expect((await call(port, 'GET', '/queue')).json().attributes).toEqual({ disabled: false });
    // Clients that are not browsers send no Origin: unchanged (node:http above, fetch here).
    expect((await fetch(`${url}/queue`)).status).toBe(200);
    // A page the server serves itself (Swagger UI "Try it out") calls with its own origin.
    expect((await call(port, 'GET', '/queue', { origin: `http://127.0.0.1:${port}`, 'sec-fetch-site': 'same-origin' })).status).toBe(200);
  });

  it('refuses cross-site requests CORS would not stop (an <img> poll, a link), without an Origin', async () => {
    const { port } = await serve();
    await call(port, 'POST', '/queue', {}, job());
    // <img src="http://127.0.0.1:5000/queue/poll">: no Origin, but the browser marks it cross-site.
    const img = await call(port, 'GET', '/queue/poll', { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'image' });
    expect(img.status).toBe(403);
    expect(img.json().message).toMatch(/^cross-site browser request refused/);
    expect((await call(port, 'GET', '/queue/poll', { 'sec-fetch-site': 'same-site' })).status).toBe(403);
    expect(await queued(port)).toBe(1); // nothing was leased
    // Typed into the address bar or opened from the server's own pages: fine.
    expect((await call(port, 'GET', '/queue', { 'sec-fetch-site': 'none' })).status).toBe(200);
    expect((await call(port, 'GET', '/queue', { 'sec-fetch-site': 'same-origin' })).status).toBe(200);
  });

  it('cors.origins lets the configured dashboard in (preflight, CORS headers); others stay out', async () => {
    const dashboard = 'http://localhost:3000';
    const { port } = await serve({ cors: { origins: [dashboard] } });
    const preflight = await call(port, 'OPTIONS', '/queue', { origin: dashboard, 'access-control-request-method': 'PATCH', 'sec-fetch-site': 'same-site' });
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe(dashboard);
    expect(preflight.headers['access-control-allow-methods']).toContain('PATCH');
    const patch = await call(port, 'PATCH', '/queue', { origin: dashboard, 'sec-fetch-site': 'same-site' }, JSON.stringify({ disabled: true }));
    expect(patch.status).toBe(200);
    expect(patch.headers['access-control-allow-origin']).toBe(dashboard);
    expect(patch.json()).toEqual({ disabled: true });
    const other = await call(port, 'GET', '/queue', { origin: 'http://localhost:3001', 'sec-fetch-site': 'same-site' });
    expect(other.status).toBe(403);
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('allowedHosts adds names to the loopback ones; a non-loopback bind checks Origin but not Host', async () => {
    const { port } = await serve({ allowedHosts: ['sisyphus.lan', '[fd00::1]'] });
    expect((await call(port, 'GET', '/queue', { host: `sisyphus.lan:${port}` })).status).toBe(200);
    expect((await call(port, 'GET', '/queue', { host: 'SISYPHUS.LAN.' })).status).toBe(200);
    expect((await call(port, 'GET', '/queue', { host: `[fd00::1]:${port}` })).status).toBe(200);
    expect((await call(port, 'GET', '/queue', { host: `other.lan:${port}` })).status).toBe(421);

    const open = await createServer(openSqliteStore(':memory:'), { bindHost: '0.0.0.0', tokens: [{ token: 'admin-token-0123456789', role: 'admin' }] });
    try {
      const as = { authorization: 'Bearer admin-token-0123456789' };
      expect((await open.app.inject({ url: '/queue', headers: { ...as, host: 'encoder.example.org:5000' } })).statusCode).toBe(200);
      expect((await open.app.inject({ url: '/queue', headers: { ...as, host: 'encoder.example.org', origin: 'http://evil.example' } })).statusCode).toBe(403);
    } finally {
      await open.close();
    }
  });

  it('refuses cors.origins and allowedHosts that are not exact', () => {
    for (const origin of ['*', 'http://*.example', 'http://localhost:3000/', 'http://localhost:3000/app', 'localhost:3000', 'HTTP://Localhost:3000', 'file:///x']) {
      expect(() => resolveServerOptions({ cors: { origins: [origin] } }), origin).toThrow(ConfigError);
    }
    expect(() => resolveServerOptions({ cors: { origins: ['http://localhost:3000/'] } })).toThrow(
      'cors.origins[0] must be an exact origin like http://localhost:3000: scheme, host and port only, no path, no wildcard (got "http://localhost:3000/") (did you mean http://localhost:3000?)',
    );
    expect(resolveServerOptions({ cors: { origins: ['http://localhost:3000', 'https://dash.example.org'] } }).cors.origins).toHaveLength(2);
    for (const host of ['http://x.lan', 'x.lan:5000', 'x.lan/path', '*.lan', '']) {
      expect(() => resolveServerOptions({ allowedHosts: [host] }), host).toThrow(/^allowedHosts\[0\] must be a host name or IP address/);
    }
    expect(resolveServerOptions({ allowedHosts: ['x.lan', '10.0.0.5', '::1', '[fd00::1]'] }).allowedHosts).toHaveLength(4);
  });
});

/** `[[[...]]]` nested `depth` levels. */
const arrays = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
/** `{"a":{"a":...{}}}` nested `depth` levels. */
const objects = (depth: number) => '{"a":'.repeat(depth - 1) + '{}' + '}'.repeat(depth - 1);

describe('malformed Host headers', () => {
  it('a Host that is not a host name or address and a port gets 400, whatever the bind', async () => {
    const { port } = await serve();
    for (const host of [`localhost:${port}@evil.com`, '[::1]evil', 'localhost:5000:1', 'local host', 'localhost/x']) {
      const res = await call(port, 'GET', '/queue', { host });
      expect(res.status, host).toBe(400);
      expect(res.json().message, host).toMatch(/^malformed Host header/);
    }
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, 'LOCALHOST', 'localhost.']) {
      expect((await call(port, 'GET', '/queue', { host })).status, host).toBe(200);
    }
  });
});

describe('hostile bodies: nesting depth', () => {
  it('refuses JSON nested 10,000 levels on every body route with 400, not 500', async () => {
    const { port } = await serve();
    const deep = arrays(10_000);
    const routes: [string, string, string][] = [
      ['POST', '/workers/w1', `{"status":"idle","hostname":"h","version":"x","online_at":"None","info":${deep}}`],
      ['POST', '/data/ffmpeg/x', `{"options":${deep}}`],
      ['PATCH', '/queue', `{"disabled":false,"x":${deep}}`],
      ['PATCH', '/workers/w1', `{"disabled":false,"x":${deep}}`],
      ['POST', '/queue', `{"job_title":"t","tasks":[{"module":"cleanup","data":{"delete":["/tmp/x"],"x":${deep}}}]}`],
      ['PATCH', '/jobs/nope/completed', `{"failed":true,"info":${deep}}`],
    ];
    for (const [method, path, body] of routes) {
      const answer = await call(port, method, path, {}, body);
      expect(answer.status, `${method} ${path}`).toBe(400);
      expect(answer.json()).toEqual({ message: `request body is nested deeper than ${MAX_JSON_DEPTH} levels` });
    }
    expect(await queued(port)).toBe(0);
    expect((await call(port, 'GET', '/data/ffmpeg/x')).status).toBe(404);
  });

  it(`accepts a body exactly ${MAX_JSON_DEPTH} levels deep, refuses one more; brackets inside strings do not count`, async () => {
    const { port } = await serve();
    const atLimit = await call(port, 'POST', '/data/ffmpeg/x', {}, `{"options":${objects(MAX_JSON_DEPTH - 1)}}`);
    expect(atLimit.status).toBe(200);
    expect((await call(port, 'GET', '/data/ffmpeg/x')).json().options).toEqual(JSON.parse(objects(MAX_JSON_DEPTH - 1)));
    const heartbeat = `{"status":"idle","hostname":"h","version":"x","online_at":"None","info":${arrays(MAX_JSON_DEPTH - 1)}}`;
    expect((await call(port, 'POST', '/workers/w1', {}, heartbeat)).status).toBe(200);
    expect((await call(port, 'POST', '/data/ffmpeg/y', {}, `{"options":${objects(MAX_JSON_DEPTH)}}`)).status).toBe(400);
    const text = `"${'['.repeat(5000)} \\" ${'{'.repeat(5000)}"`;
    expect((await call(port, 'POST', '/data/ffmpeg/z', {}, `{"options":{"note":${text}}}`)).status).toBe(200);
  });

  it('keeps malformed JSON and prototype poisoning at 400', async () => {
    const { port } = await serve();
    const malformed = await call(port, 'POST', '/queue', {}, '{"job_title": "x", tasks: [');
    expect(malformed.status).toBe(400);
    expect(malformed.json().message).toMatch(/^malformed JSON/);
    const poisoned = await call(port, 'POST', '/data/ffmpeg/p', {}, '{"options":{},"__proto__":{"polluted":true}}');
    expect(poisoned.status).toBe(400);
    expect(JSON.parse(poisoned.body).message).toMatch(/^request body has a forbidden key \(__proto__ or constructor\.prototype\)/);
    const constructed = await call(port, 'POST', '/data/ffmpeg/p', {}, '{"options":{},"constructor":{"prototype":{"x":1}}}');
    expect([constructed.status, JSON.parse(constructed.body).message]).toEqual([400, expect.stringMatching(/forbidden key/)]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((await call(port, 'POST', '/queue', {}, '')).status).toBe(400);
  });

  it('the depth scan skips strings and escapes', () => {
    expect(jsonDepthExceeds('[[["]]]]]]]]]]"]]]', 3)).toBe(false);
    expect(jsonDepthExceeds('["\\"", [[[]]]]', 3)).toBe(true);
    expect(jsonDepthExceeds('["\\\\", [[]]]', 3)).toBe(false);
    expect(jsonDepthExceeds(arrays(4), 4)).toBe(false);
    expect(jsonDepthExceeds(arrays(5), 4)).toBe(true);
  });
});

describe('token settings refused at start', () => {
  const good = 'a-token-of-twenty-chars';
  const cases: [string, unknown[], string][] = [
    [
      'the same token with two roles',
      [
        { token: good, role: 'worker', name: 'encoders' },
        { token: 'another-token-0123456789', role: 'submitter' },
        { token: good, role: 'admin', name: 'ops' },
      ],
      'tokens[0] ("encoders") and tokens[2] ("ops") have the same token; each token must be unique',
    ],
    ['an all-spaces token', [{ token: ' '.repeat(20), role: 'admin' }], 'tokens[0].token is blank'],
    ['a token with surrounding whitespace', [{ token: ` ${good}`, role: 'admin' }], 'tokens[0].token starts or ends with whitespace; it could never match'],
    [
      'a 5-character token',
      [
        { token: good, role: 'worker' },
        { token: `${good}-2`, role: 'worker' },
        { token: 'abcde', role: 'admin' },
      ],
      'tokens[2].token is 5 characters; tokens must be at least 16',
    ],
    ['an unknown role', [{ token: good, role: 'root' }], 'tokens[0].role must be one of worker, submitter, metrics, admin (got "root")'],
    [
      'a token beyond printable ASCII (curl and fetch send it differently)',
      [{ token: `${good}-é`, role: 'admin' }],
      'tokens[0].token has characters other than printable ASCII (letters, digits, punctuation); not every client can send them',
    ],
  ];
  for (const [what, tokens, message] of cases) {
    it(`${what}: createServer and startServer throw a ConfigError saying so, without the token`, async () => {
      const thrown = await createServer(openSqliteStore(':memory:'), { tokens: tokens as never }).catch((error: unknown) => error);
      expect(thrown).toBeInstanceOf(ConfigError);
      expect((thrown as Error).message).toBe(message);
      expect((thrown as Error).message).not.toContain(good);
      await expect(startServer({ port: 0, db: ':memory:', registry, tokens: tokens as never })).rejects.toThrow(message);
    });
  }

  it('the config file path gives each its own message too (the CLI, exit 2)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sis-hostile-'));
    const bin = fileURLToPath(new URL('../../../core/dist/cli/bin.js', import.meta.url));
    try {
      const run = async (tokens: string) => {
        await writeFile(join(dir, 'sisyphus.yaml'), `server:\n  port: 0\n  db: ":memory:"\n  tokens:\n${tokens}`);
        return execa(process.execPath, [bin, '-c', join(dir, 'sisyphus.yaml'), 'server'], { reject: false, timeout: 20_000 });
      };
      const short = await run('    - { token: abcde, role: admin }\n');
      expect(short.exitCode).toBe(2);
      expect(short.stderr).toContain('server.tokens[0].token must be at least 16 characters');
      expect(short.stderr).not.toContain('must not be empty');
      const duplicate = await run(`    - { token: ${good}, role: worker }\n    - { token: ${good}, role: admin, name: ops }\n`);
      expect(duplicate.exitCode).toBe(2);
      expect(duplicate.stderr).toContain('tokens[0] and tokens[1] ("ops") have the same token');
      expect(duplicate.stderr).not.toContain(good);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 30_000);
});

describe('/doc is admin-only when tokens are on, decided by route', () => {
  const admin = 'admin-token-0123456789';
  const submitter = 'submitter-token-0123456789';
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  it('401 without a token, 403 for a submitter, 200 for an admin; raw-URL tricks do not open it', async () => {
    const { port } = await serve({ tokens: [{ token: admin, role: 'admin' }, { token: submitter, role: 'submitter' }] });
    for (const path of ['/doc', '/doc/json', '/doc/json?x=1', '/doc/static/index.html']) {
      expect((await call(port, 'GET', path)).status, path).toBe(401);
      expect((await call(port, 'GET', path, bearer(submitter))).status, path).toBe(403);
      expect((await call(port, 'GET', path, bearer(admin))).status, path).toBeLessThan(400);
    }
    expect((await call(port, 'GET', '/doc/json', bearer(admin))).json()).toHaveProperty('openapi');
    expect((await call(port, 'GET', '/status/health')).status).toBe(200);
    expect((await call(port, 'GET', '/status/health?x=/doc')).status).toBe(200);
    expect((await call(port, 'GET', '/queue?/doc/')).status).toBe(401);
  });

  it('is open with tokens off', async () => {
    const { port } = await serve();
    expect((await call(port, 'GET', '/doc/json')).status).toBe(200);
    expect((await call(port, 'GET', '/doc')).status).toBeLessThan(400);
  });
});
