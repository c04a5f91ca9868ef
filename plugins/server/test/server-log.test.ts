import { afterEach, describe, expect, it } from 'vitest';
import { createServer, startServer, type SisyphusServer } from '../src/index.js';
import { openSqliteStore } from '../src/store/sqlite-store.js';
import { captureLog } from './log-capture.js';

const servers: SisyphusServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('one logger for the server', () => {
  it('at info: no line per request; a 500 is logged with its request id, method, URL and error, under component "server"', async () => {
    const { logger, lines } = captureLog('info');
    const server = await createServer(openSqliteStore(':memory:'), { logger });
    servers.push(server);
    for (let i = 0; i < 5; i++) expect((await server.app.inject('/queue')).statusCode).toBe(200);
    expect(lines.filter((l) => /request/.test(l.msg))).toEqual([]);

    server.context.store.get = () => Promise.reject(new Error('disk I/O error'));
    const res = await server.app.inject('/jobs/abc');
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({ message: 'internal server error' });
    // Once, by the error handler (not again as the request's completion).
    expect(lines.filter((l) => l.level !== 'info')).toEqual([
      expect.objectContaining({
        level: 'error',
        component: 'server',
        reqId: expect.any(String),
        msg: 'GET /jobs/abc: disk I/O error',
        err: expect.objectContaining({ message: 'disk I/O error', stack: expect.stringContaining('Error: disk I/O error') }),
      }),
    ]);
  });

  it('closing with long-polls waiting logs no error (they answer 503 before the store closes)', async () => {
    const { logger, lines } = captureLog('info');
    const server = await createServer(openSqliteStore(':memory:'), { logger });
    await server.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = server.app.server.address() as { port: number };
    const polls = [1, 2, 3].map((n) => fetch(`http://127.0.0.1:${port}/queue/poll?wait=30&worker_id=w${n}`).then((r) => r.status, () => 'closed'));
    await new Promise((r) => setTimeout(r, 200));
    await server.close();
    for (const status of await Promise.all(polls)) expect([503, 'closed']).toContain(status);
    await new Promise((r) => setTimeout(r, 1200)); // past a long-poll's next look
    expect(lines.filter((l) => l.level === 'error' || l.level === 'warn')).toEqual([]);
  });

  it('at debug: one line per answered request, with method, URL, status and time', async () => {
    const { logger, lines } = captureLog('debug');
    const server = await createServer(openSqliteStore(':memory:'), { logger });
    servers.push(server);
    await server.app.inject('/queue');
    await server.app.inject('/jobs/nope');
    const requests = lines.filter((l) => l.msg === 'request completed');
    expect(requests).toEqual([
      expect.objectContaining({ level: 'debug', component: 'server', method: 'GET', url: '/queue', statusCode: 200, ms: expect.any(Number), reqId: expect.any(String) }),
      expect.objectContaining({ level: 'debug', component: 'server', method: 'GET', url: '/jobs/nope', statusCode: 404 }),
    ]);
    expect(lines.some((l) => l.msg === 'incoming request')).toBe(false);
  });

  it('startServer: fastify\'s own lines (listening) go to the same logger', async () => {
    const { logger, lines } = captureLog('info');
    const server = await startServer({ db: ':memory:', port: 0, logger });
    servers.push(server);
    expect(lines).toContainEqual(expect.objectContaining({ level: 'info', component: 'server', msg: `Server listening at ${server.url}` }));
  });
});
