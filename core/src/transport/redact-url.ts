/**
 * Credentials in URLs (`redis://user:password@host`, `http://u:p@host`): the
 * whole userinfo, up to the last `@` before the host as URL parsers read it
 * (a password may hold a raw `@`).
 */
const USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#]*@/gi;

/**
 * `text` with the userinfo of every URL in it replaced by `****`, for logs,
 * error messages and answers that show a configured URL:
 * `redis://admin:p@ss@10.0.0.5:6379/0` -> `redis://****@10.0.0.5:6379/0`.
 */
export function redactUrl(text: string): string {
  return text.replace(USERINFO, '$1****@');
}
