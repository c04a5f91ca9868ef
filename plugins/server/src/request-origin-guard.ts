import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** What the guard needs to know: where the server listens and whom it trusts. */
export interface OriginGuardOptions {
  /** The bind address; unset counts as loopback. */
  bindHost?: string;
  /** Extra names accepted in `Host` on a loopback bind. */
  allowedHosts: readonly string[];
  /** Origins allowed to call from a browser (the CORS list). */
  corsOrigins: readonly string[];
}

/** The host part of a `Host` header or address: lower case, port, brackets and a trailing dot removed. */
export function hostName(header: string): string {
  let host = header.trim().toLowerCase();
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return end > 0 ? host.slice(1, end) : host;
  }
  const colon = host.indexOf(':');
  if (colon !== -1 && colon === host.lastIndexOf(':')) host = host.slice(0, colon); // name:port (a bare IPv6 has several)
  return host.endsWith('.') ? host.slice(0, -1) : host;
}

/** Whether `host` (a name or IP, as {@link hostName} gives it) is a loopback one. */
export function isLoopbackHost(host: string): boolean {
  const h = hostName(host);
  return h === 'localhost' || h === '::1' || /^(::ffff:)?127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** A `Host` header as RFC 9110 has it: a name or IPv4 address, or an IPv6 address in brackets, and an optional port. */
const HOST_SYNTAX = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~-]+)(:\d{1,5})?$/;

/** `"evil.example:5000"`, cut short: a header named in a message. */
function shown(value: string): string {
  return JSON.stringify(value.length > 100 ? `${value.slice(0, 100)}...` : value);
}

/** Whether `origin` is the server's own (same host and port as the request's `Host`), as for a page it serves (`/doc`). */
function ownOrigin(origin: string, host: string | undefined): boolean {
  if (host === undefined) return false;
  try {
    const url = new URL(origin);
    return /^https?:$/.test(url.protocol) && url.host === host.trim().toLowerCase();
  } catch {
    return false;
  }
}

/**
 * Refuse what a hostile web page in the operator's browser can send, before
 * auth and CORS: on a loopback bind a `Host` that is not a loopback name or
 * an allowed host gets 421 (DNS rebinding); a request whose `Origin` is
 * neither an allowed origin nor the server's own gets 403; so does one that
 * the browser marks `Sec-Fetch-Site: cross-site` or `same-site` without an
 * allowed `Origin` (an `<img>` or a link: CORS would not stop it being sent).
 * Clients that are not browsers send neither header and pass unchanged.
 */
export function registerOriginGuard(app: FastifyInstance, options: OriginGuardOptions): void {
  const checkHost = options.bindHost === undefined || isLoopbackHost(options.bindHost);
  const hosts = new Set([...(options.bindHost !== undefined ? [options.bindHost] : []), ...options.allowedHosts].map(hostName));
  const origins = new Set(options.corsOrigins);
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const host = header(request, 'host');
    if (host !== undefined && !HOST_SYNTAX.test(host)) {
      return reply.code(400).send({ message: `malformed Host header ${shown(host)}: a host name or IP address, and a port` });
    }
    if (checkHost && host !== undefined) {
      const name = hostName(host);
      if (!isLoopbackHost(name) && !hosts.has(name)) {
        return reply.code(421).send({
          message: `host ${shown(host)} is not served here: a server on a loopback address answers only to localhost, 127.0.0.1, ::1 and server.allowedHosts`,
        });
      }
    }
    const origin = header(request, 'origin');
    const allowed = origin !== undefined && origins.has(origin);
    if (origin !== undefined && !allowed && !ownOrigin(origin, host)) {
      return reply.code(403).send({ message: `origin ${shown(origin)} may not call this server: allowed origins are set in server.cors.origins` });
    }
    const site = header(request, 'sec-fetch-site');
    if ((site === 'cross-site' || site === 'same-site') && !allowed) {
      return reply.code(403).send({ message: `${site} browser request refused: only pages from server.cors.origins may call this server` });
    }
  });
}
