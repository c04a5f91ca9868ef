import {
  TransportError,
  type CompleteOptions,
  type CompleteReply,
  type HeartbeatOptions,
  type HeartbeatReply,
  type LeasedJob,
  type NextOptions,
  type Transport,
  type TransportCapabilities,
  type WorkerStatus,
} from '@sisyphus/core/transport';
import {
  type JobResult,
} from '@sisyphus/core';
import { completionBody } from '@sisyphus/core/transport';
import { createAgents } from './node-request.js';
import { httpRequest, isOk, parseJson, statusError, type HttpAnswer, type HttpRequestInit } from './http-request.js';
import { resolveHttpTransportOptions, type HttpTransportOptions, type ResolvedHttpTransportOptions } from './http-transport-options.js';
import { featuresFromConfig } from './server-features.js';

const seg = (s: string) => encodeURIComponent(s);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The worker's link to a Sisyphus API server over HTTP: our server, or the
 * original Python one. Each method is one request (the worker loop retries);
 * see `docs/architecture.md` for the conversation.
 */
export class HttpTransport implements Transport {
  readonly name = 'http';
  readonly options: ResolvedHttpTransportOptions;
  readonly #closed = new AbortController();
  readonly #agents = createAgents();
  #features: TransportCapabilities | undefined;

  constructor(options: HttpTransportOptions = {}) {
    this.options = resolveHttpTransportOptions(options);
  }

  #request(init: Omit<HttpRequestInit, 'closed' | 'fetch' | 'agents' | 'token' | 'timeoutMs'> & { timeoutMs?: number }): Promise<HttpAnswer> {
    if (this.#closed.signal.aborted) return Promise.reject(new TransportError('the transport is closed', { retryable: false }));
    return httpRequest(this.options.apiUrl, {
      ...init,
      timeoutMs: init.timeoutMs ?? this.options.requestTimeoutMs,
      closed: this.#closed.signal,
      agents: this.#agents,
      ...(this.options.fetch ? { fetch: this.options.fetch } : {}),
      ...(this.options.token ? { token: this.options.token } : {}),
    });
  }

  /**
   * What the server supports, asked once with `GET /status/config`
   * (`features: {long_poll, leases}` on our server; nothing on the
   * original). A failed request is asked again next time.
   */
  async capabilities(signal?: AbortSignal): Promise<TransportCapabilities> {
    if (this.#features) return this.#features;
    const forced = this.options.longPoll;
    const answer = await this.#request({ method: 'GET', path: '/status/config', ...(signal ? { signal } : {}) });
    if (answer.status >= 500) throw statusError('GET /status/config', answer);
    let body: unknown;
    try {
      body = isOk(answer) ? JSON.parse(answer.text) : undefined;
    } catch {
      body = undefined;
    }
    const found = featuresFromConfig(body);
    this.#features = forced === undefined ? found : { ...found, longPoll: forced };
    this.options.logger?.info(
      this.#features.longPoll ? `${this.options.apiUrl}: long-poll supported, jobs start as soon as they are submitted` : `${this.options.apiUrl}: plain polling`,
    );
    return this.#features;
  }

  /** `GET /queue`: is `attributes.disabled` set? */
  async queueDisabled(signal?: AbortSignal): Promise<boolean> {
    const answer = await this.#request({ method: 'GET', path: '/queue', ...(signal ? { signal } : {}) });
    if (!isOk(answer)) throw statusError('GET /queue', answer);
    const body = parseJson('GET /queue', answer);
    return isObject(body) && isObject(body.attributes) && body.attributes.disabled === true;
  }

  /** `GET /workers/{id}`: is this worker's `attributes.disabled` set? (404: no.) */
  async workerDisabled(workerId: string, signal?: AbortSignal): Promise<boolean> {
    const path = `/workers/${seg(workerId)}`;
    const answer = await this.#request({ method: 'GET', path, ...(signal ? { signal } : {}) });
    if (answer.status === 404) return false;
    if (!isOk(answer)) throw statusError(`GET ${path}`, answer);
    const body = parseJson(`GET ${path}`, answer);
    return isObject(body) && isObject(body.attributes) && body.attributes.disabled === true;
  }

  /**
   * `GET /queue/poll` (404: nothing to do). With long-poll and `waitMs`:
   * `GET /queue/poll?wait=SECONDS&worker_id=ID`, which answers as soon as a
   * job is submitted.
   */
  async next(signal: AbortSignal, options: NextOptions = {}): Promise<LeasedJob | undefined> {
    const features = await this.capabilities(signal);
    const query = new URLSearchParams();
    const waitS = features.longPoll && options.waitMs ? Math.max(1, Math.ceil(options.waitMs / 1000)) : 0;
    if (waitS) query.set('wait', String(waitS));
    // The original server takes no parameters; ours records the lease holder.
    if (options.workerId && (features.leases || features.longPoll)) query.set('worker_id', options.workerId);
    const path = `/queue/poll${query.toString() ? `?${query}` : ''}`;
    const answer = await this.#request({ method: 'GET', path, signal, timeoutMs: this.options.requestTimeoutMs + waitS * 1000 });
    if (answer.status === 404 || answer.status === 204) return undefined;
    if (!isOk(answer)) throw statusError(`GET ${path}`, answer);
    const job = parseJson(`GET ${path}`, answer);
    if (!isObject(job) || typeof job.job_id !== 'string' || job.job_id === '') {
      throw new TransportError(`GET ${path}: the answer is not a job with a job_id: ${answer.text.slice(0, 120)}`, { retryable: false, status: answer.status });
    }
    return { job_id: job.job_id, job };
  }

  /** `POST /workers/{id}` with the status; our server may answer `{cancel: [job ids]}`. */
  async heartbeat(status: WorkerStatus, options: HeartbeatOptions = {}): Promise<HeartbeatReply | void> {
    const workerId = options.workerId ?? this.options.workerId;
    if (!workerId) throw new TypeError('heartbeat: no worker id (pass options.workerId or set the transport option workerId)');
    const path = `/workers/${seg(workerId)}`;
    const answer = await this.#request({ method: 'POST', path, body: status, ...(options.signal ? { signal: options.signal } : {}) });
    if (!isOk(answer)) throw statusError(`POST ${path}`, answer);
    let body: unknown;
    try {
      body = JSON.parse(answer.text);
    } catch {
      return undefined; // The original's reply carries nothing for us.
    }
    if (!isObject(body) || !Array.isArray(body.cancel)) return undefined;
    const cancel = body.cancel.filter((id): id is string => typeof id === 'string');
    return cancel.length ? { cancel } : undefined;
  }

  /**
   * `PATCH /jobs/{id}/completed` with `{failed, info}`. 409 (lease lost:
   * the job went to another worker) and 404 (the job is gone) are refusals
   * the worker drops; network errors and 5xx throw so it retries. With
   * `options.next` on a server announcing `complete_next`:
   * `PATCH /jobs/{id}/completed?next=1`, whose reply may carry the worker's
   * next job.
   */
  async complete(job: LeasedJob, result: JobResult, options: CompleteOptions = {}): Promise<CompleteReply> {
    const fetchNext = options.next !== undefined && this.#features?.completeFetchesNext === true;
    const path = `/jobs/${seg(job.job_id)}/completed${fetchNext ? '?next=1' : ''}`;
    const answer = await this.#request({ method: 'PATCH', path, body: completionBody(result) });
    if (isOk(answer)) {
      if (!fetchNext) return { accepted: true };
      // The report went through whatever the rest says: a reply without a readable job just brings none.
      let body: unknown;
      try {
        body = JSON.parse(answer.text);
      } catch {
        return { accepted: true };
      }
      const next = isObject(body) && isObject(body.next) ? body.next : undefined;
      return next && typeof next.job_id === 'string' && next.job_id !== '' ? { accepted: true, next: { job_id: next.job_id, job: next } } : { accepted: true };
    }
    if (answer.status === 409) return { accepted: false, reason: `lease lost (HTTP 409${answer.text.trim() ? `: ${answer.text.trim().slice(0, 200)}` : ''})` };
    if (answer.status === 404 || answer.status === 410) return { accepted: false, reason: `the server does not know the job (HTTP ${answer.status})` };
    throw statusError(`PATCH ${path}`, answer);
  }

  /** `GET /data/{module}/{name}`: the record (`{name, options}` for ffmpeg option sets), or undefined on 404. */
  async getData(module: string, name: string): Promise<Record<string, unknown> | undefined> {
    const path = `/data/${seg(module)}/${seg(name)}`;
    const answer = await this.#request({ method: 'GET', path });
    if (answer.status === 404) return undefined;
    if (!isOk(answer)) throw statusError(`GET ${path}`, answer);
    const body = parseJson(`GET ${path}`, answer);
    if (!isObject(body)) throw new TransportError(`GET ${path}: the record is not an object`, { retryable: false, status: answer.status });
    return body;
  }

  /** Abort requests in flight; later calls fail. */
  async close(): Promise<void> {
    this.#closed.abort();
    this.#agents.http.destroy();
    this.#agents.https.destroy();
  }
}

/** Make an {@link HttpTransport}. */
export function createHttpTransport(options: HttpTransportOptions = {}): HttpTransport {
  return new HttpTransport(options);
}
