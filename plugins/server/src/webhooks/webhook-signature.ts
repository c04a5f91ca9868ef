import { createHmac, timingSafeEqual } from 'node:crypto';

/** The header that carries a delivery's signature: `t=UNIX_SECONDS,v1=HEX_HMAC_SHA256`. */
export const SIGNATURE_HEADER = 'Sisyphus-Signature';
/** The header that carries the delivery's event type, e.g. `job.completed`. */
export const EVENT_HEADER = 'Sisyphus-Event';
/** The header that carries the event's id (also the body's `id`): the same on every attempt, for de-duplication. */
export const DELIVERY_HEADER = 'Sisyphus-Delivery';

/** How old a signature a receiver should accept, in seconds (the documented replay window). */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

/**
 * The `Sisyphus-Signature` value of `body` sent at `timestamp` (Unix
 * seconds): HMAC-SHA256 with `secret` over `timestamp + "." + body`, hex,
 * as Stripe signs its webhooks. Each attempt is signed with its own time.
 */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');
  return `t=${timestamp},v1=${mac}`;
}

/**
 * Does `header` (a `Sisyphus-Signature` value) sign `body` with `secret`,
 * at a time within `toleranceSeconds` of `now` (epoch ms)? The receiver's
 * side of {@link signWebhook}, as docs/server.md shows it (kept in step by a test).
 */
export function verifyWebhook(body: string | Buffer, header: string, secret: string, options: { toleranceSeconds?: number; now?: number } = {}): boolean {
  let timestamp: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const [key, value] = part.trim().split('=');
    if (key === 't') timestamp = Number(value);
    else if (key === 'v1' && value) signatures.push(value);
  }
  const tolerance = options.toleranceSeconds ?? SIGNATURE_TOLERANCE_SECONDS;
  if (timestamp === undefined || !Number.isInteger(timestamp) || Math.abs((options.now ?? Date.now()) / 1000 - timestamp) > tolerance) return false;
  const expected = createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest();
  return signatures.some((signature) => {
    const given = Buffer.from(signature, 'hex');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}
