import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../server-context.js';

/** `GET /auth/whoami`: who the request's token is, for the dashboard's login and its role-aware actions. */
export function registerAuthRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get(
    '/auth/whoami',
    {
      config: { access: ['worker', 'submitter'] },
      schema: {
        tags: ['auth'],
        summary: "The token's role: {auth, role, name?}. With auth off: {auth: false, role: 'admin'}; 401 for a missing or unknown token when auth is on",
      },
    },
    async (request) => {
      if (!ctx.options.tokens.length) return { auth: false, role: 'admin' };
      const grant = request.grant!;
      return { auth: true, role: grant.role, ...(grant.name ? { name: grant.name } : {}) };
    },
  );
}
