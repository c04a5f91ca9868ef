import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Role, TokenGrant } from './server-options.js';

/** Roles allowed on a route besides `admin` (which may do everything); `public` needs no token. */
export type RouteAccess = readonly Role[] | 'public';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route when tokens are configured. */
    access?: RouteAccess;
  }
  interface FastifyRequest {
    /** The grant of the request's bearer token, when auth is on. */
    grant?: TokenGrant;
  }
}

/** The grant of an `Authorization: Bearer TOKEN` header among `tokens`; undefined for none, another scheme or an unknown token. */
export function grantOf(header: string | undefined, tokens: readonly TokenGrant[]): TokenGrant | undefined {
  const match = /^Bearer\s+(.+)$/i.exec(header ?? '');
  return match ? tokens.find((t) => same(t.token, match[1]!.trim())) : undefined;
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Bearer-token auth with roles. With no tokens configured every request is
 * let through (original clients work unchanged). Otherwise a request without
 * a known token gets 401, one whose role the route does not allow gets 403.
 * Routes say who may call them in `config.access`; a route without it
 * (`/doc` and its assets among them) is admin-only.
 */
export function registerAuth(app: FastifyInstance, tokens: readonly TokenGrant[]): void {
  if (!tokens.length) return;
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.method === 'OPTIONS') return; // CORS preflight carries no credentials
    // Unknown routes answer 404 to anyone. Decided by the matched route, never the raw URL
    // (`/doc?x`, `//doc`); `/doc` has no `access`, so it is admin-only like every such route.
    if (request.routeOptions.url === undefined) return;
    const access = request.routeOptions.config?.access;
    if (access === 'public') return;
    const header = request.headers.authorization ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header);
    const grant = grantOf(header, tokens);
    if (!grant) {
      return reply.code(401).header('www-authenticate', 'Bearer').send({ message: match ? 'unknown token' : 'a bearer token is required' });
    }
    request.grant = grant;
    if (grant.role === 'admin') return;
    if (!access || !access.includes(grant.role)) {
      return reply.code(403).send({ message: `role ${grant.role} may not ${request.method} ${request.routeOptions.url ?? request.url}` });
    }
  });
}
