import { BULLMQ_KEY_NAMES } from './bullmq-internals.js';

/**
 * BullMQ refuses custom job ids that look like integers or contain `:`, and
 * stores a job under `PREFIX:jobs:<id>`, beside its own keys (`wait`,
 * `active`, `meta`, ...). Our job ids are free text (UUIDs by default), so an
 * id BullMQ would refuse, one that names a BullMQ key, and one starting with
 * the escape mark `~` is carried as `~` + base64url (never a key name).
 * Every other id is used as it is, so BullMQ tooling shows our ids.
 */
const ESCAPE = '~';

function bullmqAccepts(id: string): boolean {
  return id !== '' && !id.startsWith(ESCAPE) && !id.includes(':') && `${parseInt(id, 10)}` !== id && !BULLMQ_KEY_NAMES.has(id);
}

/** The BullMQ job id of our `job_id`. */
export function toBullmqId(jobId: string): string {
  return bullmqAccepts(jobId) ? jobId : ESCAPE + Buffer.from(jobId, 'utf8').toString('base64url');
}

/** Our `job_id` of a BullMQ job id made by {@link toBullmqId}. */
export function fromBullmqId(bullmqId: string): string {
  return bullmqId.startsWith(ESCAPE) ? Buffer.from(bullmqId.slice(ESCAPE.length), 'base64url').toString('utf8') : bullmqId;
}
