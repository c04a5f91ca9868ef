import type { FastifyInstance } from 'fastify';
import secureJson from 'secure-json-parse';

/** Deepest nesting of objects and arrays accepted in a JSON body (`{}` and `[]` are one level). */
export const MAX_JSON_DEPTH = 64;

/**
 * Whether `text` nests objects and arrays deeper than `limit`: one linear
 * scan that skips string contents and escapes. Malformed text is left to the
 * parser.
 */
export function jsonDepthExceeds(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

/**
 * Parse JSON text as fastify does, refusing `__proto__` and
 * `constructor.prototype` keys (secure-json-parse). Throws an Error whose
 * message says which it was: malformed JSON, or a forbidden key.
 */
export function parseJsonSecurely(text: string): unknown {
  try {
    return secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' });
  } catch (error) {
    const message = (error as Error).message;
    throw new Error(/forbidden prototype property/.test(message) ? `has a forbidden key (__proto__ or constructor.prototype): ${message}` : `malformed JSON: ${message}`);
  }
}

/** A body that is not JSON we accept: 400 with what is wrong. */
function badBody(message: string): Error {
  return Object.assign(new Error(message), { statusCode: 400 });
}

/**
 * Replace fastify's JSON parser by one that first refuses bodies nested deeper
 * than {@link MAX_JSON_DEPTH} (400: deep documents overflow the stack where
 * they are stored), then parses with secure-json-parse as fastify does
 * (`__proto__` and `constructor.prototype` refused), saying which of the two
 * it was: malformed JSON, or a forbidden key.
 */
export function registerJsonBodyParser(app: FastifyInstance, bodyLimit: number): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit }, (_request, body, done) => {
    const text = body as string;
    if (jsonDepthExceeds(text, MAX_JSON_DEPTH)) {
      done(Object.assign(new Error(`request body is nested deeper than ${MAX_JSON_DEPTH} levels`), { statusCode: 400 }), undefined);
      return;
    }
    let value: unknown;
    try {
      value = parseJsonSecurely(text);
    } catch (error) {
      const message = (error as Error).message;
      done(badBody(message.startsWith('has a forbidden key') ? `request body ${message}` : message), undefined);
      return;
    }
    done(null, value);
  });
}
