import { createHash } from 'node:crypto';
import type { JobRequirements, LeaseOptions } from '@sisyphus/server/store';

/** The requirement set of jobs without requirements (any worker runs them), and of jobs queued before routing existed. */
export const ANY_SET = 'any';

/**
 * The id of the requirement set of `requires` (see {@link JobRequirements}):
 * {@link ANY_SET} for none, else `r` + 16 hex digits of the SHA-1 of the
 * set's canonical form (explicit flag, then the requirements sorted without
 * repeats), so equal sets share one ready index (`StoreKeys.ready`) whoever
 * queued them. The Lua scripts take it from the record (`requires_set`).
 */
export function requirementSetId(requires: JobRequirements | undefined): string {
  if (!requires) return ANY_SET;
  const canonical = JSON.stringify([requires.explicit ? 1 : 0, ...[...new Set(requires.all)].sort()]);
  return `r${createHash('sha1').update(canonical).digest('hex').slice(0, 16)}`;
}

/** Fingerprints of the capability lists seen lately (the same workers poll again and again). */
const fingerprints = new Map<string, string>();
const MAX_FINGERPRINTS = 1000;
/** The same, by list: a worker passes the same array poll after poll, so most calls need not even join it. */
const fingerprintsByList = new WeakMap<readonly string[], string>();

/**
 * The fingerprint of capability list `capabilities`: 16 hex digits of the
 * SHA-1 of the list sorted without repeats (equal lists, in any order, have
 * equal fingerprints).
 */
export function capabilityFingerprint(capabilities: readonly string[]): string {
  let fingerprint = fingerprintsByList.get(capabilities);
  if (fingerprint !== undefined) return fingerprint;
  const text = capabilities.join('\n');
  fingerprint = fingerprints.get(text);
  if (fingerprint === undefined) {
    const canonical = JSON.stringify([...new Set(capabilities)].sort());
    fingerprint = createHash('sha1').update(canonical).digest('hex').slice(0, 16);
    if (fingerprints.size >= MAX_FINGERPRINTS) fingerprints.delete(fingerprints.keys().next().value!);
    fingerprints.set(text, fingerprint);
  }
  fingerprintsByList.set(capabilities, fingerprint);
  return fingerprint;
}

/**
 * What the lease scripts take after their other arguments to know what a
 * worker can do: '0' (it advertises nothing: the original worker, an
 * anonymous poll); '1', the fingerprint of its capabilities and the
 * capabilities; or, without `list`, '2' and the fingerprint alone.
 * fragments/lease-next.lua applies `canRun` to each requirement set with
 * them once per fingerprint and keeps the answers (`StoreKeys.eligible`), so
 * a lease by fingerprint alone needs the list only when it meets a set it
 * has no answer for: it then answers so (3) and the caller sends the list
 * (a worker's list is some 250 strings: ffmpeg's encoders and more, a few KB
 * per call otherwise).
 */
export function capabilityArgs(options: LeaseOptions | undefined, list = true): string[] {
  const capabilities = options?.capabilities;
  if (capabilities === undefined) return ['0'];
  const fingerprint = capabilityFingerprint(capabilities);
  return list ? ['1', fingerprint, ...capabilities] : ['2', fingerprint];
}
