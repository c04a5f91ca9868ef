import { describeTransport } from '@sisyphus/core/conformance';
import { createServer, openSqliteStore } from '@sisyphus/server';
import { createHttpTransport } from '@sisyphus/transport-http';

// The HTTP transport against our real server (SQLite in memory, port 0).
describeTransport('http -> @sisyphus/server', async () => {
  const server = await createServer(openSqliteStore(':memory:'), { acceptUnknownModules: true });
  const base = await server.app.listen({ host: '127.0.0.1', port: 0 });
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, { method, ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}) });
    if (!res.ok && res.status !== 404) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return res.status === 404 || res.status === 204 ? undefined : ((await res.json()) as Record<string, unknown>);
  };
  return {
    transport: createHttpTransport({ apiUrl: base }),
    submit: async (job) => String((await call('POST', '/queue', job))!.job_id),
    state: async (id) => (await call('GET', `/jobs/${id}`))?.state as string | undefined,
    result: async (id) => (await call('GET', `/jobs/${id}`))?.result as Record<string, unknown> | undefined,
    setQueueDisabled: async (disabled) => void (await call('PATCH', '/queue', { disabled })),
    setWorkerDisabled: async (id, disabled) => void (await call('PATCH', `/workers/${id}`, { disabled })),
    requestCancel: async (id) => void (await call('POST', `/jobs/${id}/cancel`)),
    putData: async (module, name, record) => void (await call('POST', `/data/${module}/${name}`, record)),
    close: () => server.close(),
  };
});
