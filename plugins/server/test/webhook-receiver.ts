import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request a {@link WebhookReceiver} got. */
export interface Received {
  headers: IncomingHttpHeaders;
  /** The raw body, as received. */
  raw: Buffer;
  /** The body, parsed. */
  json: { id: string; type: string; created_at: string; hook: string; data: Record<string, any> };
  /** Epoch ms it arrived. */
  at: number;
}

/** How to answer: a status (with headers), or never answer. */
export type Answer = number | { status: number; headers?: Record<string, string> } | 'hang';

/**
 * A real HTTP receiver on 127.0.0.1, port 0 (node:http): records every
 * request, answers with the queued `answers` in turn, then `fallback`. A
 * `hang` answer keeps the request open until the receiver closes.
 */
export class WebhookReceiver {
  readonly received: Received[] = [];
  readonly answers: Answer[] = [];
  fallback: Answer = 200;
  /** Requests answered with `hang` that are still open. */
  hanging = 0;
  readonly #server: Server;
  readonly #open = new Set<ServerResponse>();
  readonly #waiters = new Set<() => void>();

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(): Promise<WebhookReceiver> {
    const server = createServer();
    const receiver = new WebhookReceiver(server);
    server.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        receiver.received.push({ headers: req.headers, raw, json: JSON.parse(raw.toString('utf8')), at: Date.now() });
        for (const wake of [...receiver.#waiters]) wake();
        const answer = receiver.answers.length ? receiver.answers.shift()! : receiver.fallback;
        if (answer === 'hang') {
          receiver.hanging++;
          receiver.#open.add(res);
          res.on('close', () => {
            receiver.hanging--;
            receiver.#open.delete(res);
          });
          return;
        }
        const { status, headers } = typeof answer === 'number' ? { status: answer, headers: {} } : answer;
        res.writeHead(status, headers).end(status === 204 ? undefined : 'ok');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/hook`;
  }

  /** Wait until `check()` holds (re-checked on each request and every 50 ms), at most `ms`. */
  async until(what: string, check: () => boolean, ms = 20_000): Promise<void> {
    const end = Date.now() + ms;
    while (!check()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what} (received ${this.received.length}: ${this.received.map((r) => r.json.type).join(', ')})`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, 50);
        function done() {
          clearTimeout(timer);
          waiters.delete(done);
          resolve();
        }
        const waiters = this.#waiters;
        waiters.add(done);
      });
    }
  }

  /** The received events of `type`. */
  of(type: string): Received[] {
    return this.received.filter((r) => r.json.type === type);
  }

  async close(): Promise<void> {
    for (const res of this.#open) res.destroy();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
