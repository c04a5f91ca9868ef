import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, until } from './processes.js';

/**
 * A private `redis-server` on a free port of 127.0.0.1, its data in a temp
 * dir with AOF on and fsync on every write (`--appendonly yes --appendfsync
 * always --save ''`): it can be SIGKILLed and started again on the same
 * port and dir, and replays everything it acknowledged. Nothing else uses
 * it, so a test may kill it without disturbing the shared Redis.
 */
export class PrivateRedis {
  /** The running server, if any. */
  child: ChildProcess | undefined;
  /** Everything the server printed (its log), across restarts. */
  readonly output: string[] = [];

  private constructor(
    readonly port: number,
    /** Where the AOF lives (removed by {@link PrivateRedis.close}). */
    readonly dir: string,
  ) {}

  /** Make one (a fresh temp dir and a free port) and start it. */
  static async start(): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await freePort(), await mkdtemp(join(tmpdir(), 'sis-redis-')));
    await redis.start();
    return redis;
  }

  /** `redis://127.0.0.1:PORT/0`. */
  get url(): string {
    return `redis://127.0.0.1:${this.port}/0`;
  }

  /** Start the server (again) on the same port and dir; resolves once it answers PING (the AOF is loaded by then). */
  async start(): Promise<void> {
    if (this.child) throw new Error('the private redis-server is running already');
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--dir', this.dir],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout!.on('data', (d) => this.output.push(String(d)));
    child.stderr!.on('data', (d) => this.output.push(String(d)));
    this.child = child;
    // While it loads the AOF it answers -LOADING, which ping() takes as not up.
    await until(`redis-server on port ${this.port}`, async () => {
      if (child.exitCode !== null) throw new Error(`redis-server exited (${child.exitCode}): ${this.output.join('')}`);
      return this.ping();
    }, 20_000);
  }

  /** Does it answer PING right now? */
  async ping(): Promise<boolean> {
    const probe = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000 });
    probe.on('error', () => undefined);
    try {
      await probe.connect();
      return (await probe.ping()) === 'PONG';
    } catch {
      return false;
    } finally {
      probe.disconnect();
    }
  }

  /** Kill the server (SIGKILL by default: no shutdown, only what the AOF holds survives); resolves once it has exited. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await exited;
  }

  /** Kill it and remove its dir. */
  async close(): Promise<void> {
    await this.kill();
    await rm(this.dir, { recursive: true, force: true });
  }
}
