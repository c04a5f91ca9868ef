// A stand-in for the ORIGINAL Python Sisyphus server (Flask over Redis/Mongo),
// as far as a worker sees it: plain poll (404 when empty), GET /workers/{id}
// answering the last heartbeat plus attributes, & escaped as \u0026 in JSON.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';

export interface Recorded {
  method: string;
  path: string;
  /** Parsed JSON body, if any. */
  body?: any;
  at: number;
  /** True when the fake network dropped it. */
  dropped: boolean;
}

export class FakeOriginalServer {
  readonly queue: Array<Record<string, unknown>> = [];
  queueDisabled = false;
  readonly workerAttributes = new Map<string, { disabled: boolean }>();
  readonly lastHeartbeat = new Map<string, Record<string, unknown>>();
  readonly requests: Recorded[] = [];
  readonly data = new Map<string, Record<string, unknown>>();
  /** Simulated network outage: every request's connection is cut. */
  down = false;
  /** Status forced on PATCH /jobs/{id}/completed (e.g. 409). */
  completeStatus: number | undefined;
  /** Extra fields merged into heartbeat replies (our server's `cancel`). */
  heartbeatExtra: ((workerId: string) => Record<string, unknown> | undefined) | undefined;
  /** Pretend to be our server: announce features; with long_poll, `GET /queue/poll?wait=S` waits for a job. */
  features: { long_poll?: boolean; leases?: boolean } | undefined;
  readonly #waiters = new Set<() => void>();
  #server: Server;
  url = '';

  constructor() {
    this.#server = createServer((req, res) => void this.#handle(req, res));
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  submit(job: Record<string, unknown>): string {
    const job_id = randomUUID();
    this.queue.push({ ...job, job_id, added: new Date().toISOString() });
    for (const wake of this.#waiters) wake();
    return job_id;
  }

  /** Requests that went through, filtered. */
  seen(method: string, prefix: string): Recorded[] {
    return this.requests.filter((r) => !r.dropped && r.method === method && r.path.startsWith(prefix));
  }

  completions(): Recorded[] {
    return this.seen('PATCH', '/jobs/');
  }

  heartbeats(workerId?: string): Recorded[] {
    return this.seen('POST', '/workers/').filter((r) => workerId === undefined || r.path === `/workers/${workerId}`);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://x');
    const record: Recorded = { method: req.method ?? '', path: url.pathname + url.search, at: Date.now(), dropped: this.down };
    if (raw) {
      try {
        record.body = JSON.parse(raw);
      } catch {
        record.body = raw;
      }
    }
    this.requests.push(record);
    if (this.down) {
      req.socket.destroy();
      return;
    }
    const send = (status: number, body?: unknown) => {
      // Like Flask's htmlsafe JSON: & < > go out as \u0026 \u003c \u003e.
      const text = body === undefined ? '' : JSON.stringify(body).replace(/&/g, '\\u0026').replace(/</g, '\\u003c').replace(/>/g, '\\u003e');
      res.writeHead(status, { 'content-type': 'application/json' }).end(text);
    };
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const m = req.method;
    if (m === 'GET' && url.pathname === '/queue') return send(200, { queue: this.queue, entries: this.queue.length, attributes: { disabled: this.queueDisabled } });
    if (m === 'GET' && url.pathname === '/queue/poll') {
      const wait = Number(url.searchParams.get('wait') ?? 0);
      if (this.features?.long_poll && wait > 0 && !this.queue.length) {
        await new Promise<void>((resolve) => {
          const wake = () => {
            this.#waiters.delete(wake);
            clearTimeout(timer);
            resolve();
          };
          const timer = setTimeout(wake, wait * 1000);
          this.#waiters.add(wake);
        });
      }
      const job = this.queue.shift();
      return job ? send(200, job) : send(404, { message: 'queue is empty' });
    }
    if (m === 'GET' && url.pathname === '/status/config') return send(200, { backend: { redis: 'redis://***' }, version: '1.5.9', uptime: '3 hours', ...(this.features ? { features: this.features } : {}) });
    if (parts[0] === 'workers' && parts.length === 2) {
      const id = parts[1]!;
      const attributes = this.workerAttributes.get(id) ?? { disabled: false };
      this.workerAttributes.set(id, attributes);
      if (m === 'GET') return send(200, { ...(this.lastHeartbeat.get(id) ?? {}), worker_id: id, attributes });
      if (m === 'POST') {
        this.lastHeartbeat.set(id, record.body);
        return send(200, { ...record.body, worker_id: id, ...(this.heartbeatExtra?.(id) ?? {}) });
      }
    }
    if (m === 'PATCH' && parts[0] === 'jobs' && parts[2] === 'completed') return send(this.completeStatus ?? 200, this.completeStatus ? { message: 'refused' } : {});
    if (m === 'GET' && parts[0] === 'data' && parts.length === 3) {
      const hit = this.data.get(`${parts[1]}/${parts[2]}`);
      return hit ? send(200, hit) : send(404, { message: 'not found' });
    }
    send(404, { message: 'no such route' });
  }
}
