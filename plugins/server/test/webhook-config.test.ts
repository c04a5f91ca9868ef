import { describe, expect, it } from 'vitest';
import { ConfigError } from '@sisyphus/core';
import { checkedWebhooks, type WebhookConfig } from '../src/webhooks/webhook-config.js';
import { resolveServerOptions } from '../src/server-options.js';
import { maskSecrets } from '../src/routes/status-routes.js';
import { retryAfterMs, retryDelayMs, RETRY_MAX_MS } from '../src/webhooks/webhook-backoff.js';
import { signWebhook, verifyWebhook } from '../src/webhooks/webhook-signature.js';

const SECRET = 'a-secret-of-32-characters-long!!';
const hook = (extra: Record<string, unknown> = {}) => ({ name: 'chat', url: 'https://hooks.example.net/x', events: ['job.failed'], secret: SECRET, ...extra });

/** The ConfigError message `fn` throws (one line). */
function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).not.toContain('\n');
    return message;
  }
  throw new Error('not refused');
}

describe('webhook settings', () => {
  it('fills in the defaults; the secret is kept but never shows (JSON, status masking, spread)', () => {
    const [resolved] = checkedWebhooks([hook({ filter: { title: 'Ingest', module: 'ffmpeg', worker_id: ['w1', 'w2'] } })]);
    expect(resolved).toMatchObject({ name: 'chat', events: ['job.failed'], timeoutMs: 10_000, maxAttempts: 12, filter: { title: 'ingest', modules: ['ffmpeg'], workerIds: ['w1', 'w2'] } });
    expect(resolved!.secret).toBe(SECRET);
    expect(JSON.stringify(resolved)).not.toContain(SECRET);
    expect(JSON.stringify({ ...resolved })).not.toContain(SECRET);
    expect(JSON.stringify(maskSecrets(resolveServerOptions({ webhooks: [hook() as WebhookConfig] })))).not.toContain(SECRET);
  });

  it('reads the secret from secret_env', () => {
    const [resolved] = checkedWebhooks([hook({ secret: undefined, secret_env: 'HOOK_SECRET' })], { HOOK_SECRET: SECRET });
    expect(resolved!.secret).toBe(SECRET);
  });

  it.each([
    ['not a list', { x: 1 }, /^webhooks must be a list/],
    ['an entry that is no object', ['x'], /^webhooks\[0\] must be an object/],
    ['an unknown field', [hook({ retries: 3 })], /^webhooks\[0\]\.retries: unknown setting; use name, url/],
    ['a bad name', [hook({ name: 'a b' })], /^webhooks\[0\]\.name must be 1 to 64 letters/],
    ['the same name twice', [hook(), hook()], /^webhooks\[0\] and webhooks\[1\] have the same name "chat"/],
    ['a URL of another scheme', [hook({ url: 'ftp://x/y' })], /^webhooks\[0\]\.url must be an http:\/\/ or https:\/\/ URL \(got "ftp:\/\/x\/y"\)$/],
    ['no URL', [hook({ url: 'not a url' })], /^webhooks\[0\]\.url must be an http:\/\/ or https:\/\/ URL/],
    ['a URL with a password', [hook({ url: 'https://u:p@x/y' })], /^webhooks\[0\]\.url must not carry a user name or password/],
    ['no events', [hook({ events: [] })], /^webhooks\[0\]\.events must be a non-empty list of event types: job\.submitted, /],
    ['an unknown event', [hook({ events: ['job.failed', 'job.done'] })], /^webhooks\[0\]\.events\[1\]: unknown event type "job\.done"; use .*worker\.offline/],
    ['heartbeats', [hook({ events: ['worker.heartbeat'] })], /^webhooks\[0\]\.events\[0\]: unknown event type "worker\.heartbeat"/],
    ['an unknown filter', [hook({ filter: { state: 'x' } })], /^webhooks\[0\]\.filter\.state: unknown filter; use title, module, worker_id$/],
    ['an empty module list', [hook({ filter: { module: [] } })], /^webhooks\[0\]\.filter\.module must be a module name or a non-empty list of them$/],
    ['a timeout of 0', [hook({ timeout_seconds: 0 })], /^webhooks\[0\]\.timeout_seconds must be a number of seconds from 1 to 300 \(got 0\)$/],
    ['a timeout under a second', [hook({ timeout_seconds: 0.0004 })], /^webhooks\[0\]\.timeout_seconds must be a number of seconds from 1 to 300 \(got 0.0004\)$/],
    ['a fractional attempt count', [hook({ max_attempts: 1.5 })], /^webhooks\[0\]\.max_attempts must be a whole number from 1 to 100/],
    ['no secret', [hook({ secret: undefined })], /^webhooks\[0\]: a signing secret is required/],
    ['both secrets', [hook({ secret_env: 'X' })], /^webhooks\[0\]: give secret or secret_env, not both$/],
    ['a short secret', [hook({ secret: 'short-secret' })], /^webhooks\[0\]\.secret: the secret is 12 characters; webhook secrets must be at least 16$/],
    ['an unset secret_env', [hook({ secret: undefined, secret_env: 'NOPE_NOT_SET' })], /^webhooks\[0\]\.secret_env: environment variable NOPE_NOT_SET is not set$/],
  ])('refuses %s with one line naming the field', (_what, value, message) => {
    expect(refusal(() => checkedWebhooks(value, {}))).toMatch(message);
  });

  it('never names a secret, not even a short one', () => {
    expect(refusal(() => checkedWebhooks([hook({ secret: 'hunter2-secret' })], {}))).not.toContain('hunter2');
    expect(refusal(() => checkedWebhooks([hook({ secret: undefined, secret_env: 'S' })], { S: 'tiny-value' }))).not.toContain('tiny-value');
    // The server's own option check refuses the same way.
    expect(refusal(() => resolveServerOptions({ webhooks: [hook({ url: 'x' }) as WebhookConfig] }))).toMatch(/^webhooks\[0\]\.url/);
  });
});

describe('webhook signature', () => {
  const body = JSON.stringify({ id: 'x:1', type: 'job.completed', data: { job: { job_title: 'Tom & Jerry 🎬' } } });

  it('is HMAC-SHA256 over "t.body", hex, in t=...,v1=...', () => {
    const header = signWebhook(SECRET, 1_800_000_000, body);
    expect(header).toMatch(/^t=1800000000,v1=[0-9a-f]{64}$/);
    expect(verifyWebhook(body, header, SECRET, { now: 1_800_000_000_000 })).toBe(true);
    expect(verifyWebhook(Buffer.from(body), header, SECRET, { now: 1_800_000_100_000 })).toBe(true);
  });

  it('refuses another body, another secret, an old or future time, and junk', () => {
    const header = signWebhook(SECRET, 1_800_000_000, body);
    expect(verifyWebhook(`${body} `, header, SECRET, { now: 1_800_000_000_000 })).toBe(false);
    expect(verifyWebhook(body, header, `${SECRET}x`, { now: 1_800_000_000_000 })).toBe(false);
    expect(verifyWebhook(body, header, SECRET, { now: 1_800_000_301_000 })).toBe(false);
    expect(verifyWebhook(body, header, SECRET, { now: 1_799_999_699_000 })).toBe(false);
    expect(verifyWebhook(body, header.replace('t=1800000000', 't=1800000001'), SECRET, { now: 1_800_000_000_000 })).toBe(false);
    expect(verifyWebhook(body, 'v1=abc', SECRET)).toBe(false);
    expect(verifyWebhook(body, '', SECRET)).toBe(false);
  });
});

describe('webhook backoff', () => {
  it('doubles from 1 s with jitter between half and all, up to 30 minutes', () => {
    expect([1, 2, 3, 4].map((n) => retryDelayMs(n, () => 0))).toEqual([500, 1000, 2000, 4000]);
    expect([1, 2, 3, 4].map((n) => retryDelayMs(n, () => 0.999999))).toEqual([1000, 2000, 4000, 8000]);
    expect(Math.abs(retryDelayMs(50, () => 0.999999) - RETRY_MAX_MS)).toBeLessThanOrEqual(1);
    expect(retryDelayMs(1000, () => 0)).toBe(RETRY_MAX_MS / 2);
  });

  it('reads Retry-After as seconds or an HTTP date, capped at an hour', () => {
    const now = Date.UTC(2026, 0, 1);
    expect(retryAfterMs('3', now)).toBe(3000);
    expect(retryAfterMs(new Date(now + 10_000).toUTCString(), now)).toBe(10_000);
    expect(retryAfterMs(new Date(now - 10_000).toUTCString(), now)).toBe(0);
    expect(retryAfterMs('99999', now)).toBe(3_600_000);
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(retryAfterMs(null, now)).toBeUndefined();
  });
});
