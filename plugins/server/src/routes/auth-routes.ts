import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../server-context.js';
import { grantOf } from '../auth.js';

/**
 * `GET /auth/whoami`: who the request's token is, for the dashboard's login
 * and its role-aware actions. Public, so that a page can ask whether it needs
 * a token without an error: no `Authorization` header answers `role: null`
 * (auth on) or `admin` (auth off); a token the server does not know is 401.
 */
export function registerAuthRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get(
    '/auth/whoami',
    {
      config: { access: 'public' },
      schema: {
        tags: ['auth'],
        summary:
          "The token's role: {auth, role, name?}. Auth off: {auth: false, role: 'admin'}; auth on without a token: {auth: true, role: null}; 401 for a token the server does not know",
      },
    },
    async (request, reply) => {
      const tokens = ctx.options.tokens;
      if (!tokens.length) return { auth: false, role: 'admin' };
      const header = request.headers.authorization;
      if (header === undefined || header.trim() === '') return { auth: true, role: null };
      const grant = grantOf(header, tokens);
      if (!grant) return reply.code(401).header('www-authenticate', 'Bearer').send({ message: /^Bearer\s+\S/i.test(header) ? 'unknown token' : 'a bearer token is required' });
      return { auth: true, role: grant.role, ...(grant.name ? { name: grant.name } : {}) };
    },
  );
}
