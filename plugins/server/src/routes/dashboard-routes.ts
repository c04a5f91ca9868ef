import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';

/** Where the dashboard is served; `/` leads there. */
export const DASHBOARD_PREFIX = '/ui/';

/**
 * The built dashboard (plugins/dashboard, built into this package's
 * `dist/dashboard/` at package build): beside this file once built; from the
 * sources (tests, tsx) in `../dist/dashboard/`.
 */
export function dashboardRoot(): string | undefined {
  for (const relative of ['./dashboard/', '../dist/dashboard/', '../../dist/dashboard/']) {
    const dir = fileURLToPath(new URL(relative, import.meta.url));
    if (existsSync(`${dir}index.html`)) return dir;
  }
  return undefined;
}

/**
 * The dashboard's page allows only its own files: no inline script or
 * style, no other origin (it calls the API on the same origin), no framing.
 */
const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

/**
 * The web dashboard at `/ui/` (static files, public: the page asks for a
 * token itself, and every API call it makes is checked as any other) and
 * `/` redirecting to it. When the package was built without it, `/ui/`
 * answers 503 saying so.
 */
export async function registerDashboardRoutes(app: FastifyInstance): Promise<void> {
  app.get('/', { config: { access: 'public' }, schema: { hide: true } }, async (_request, reply) => reply.redirect(DASHBOARD_PREFIX, 302));
  const root = dashboardRoot();
  if (!root) {
    app.get(`${DASHBOARD_PREFIX}*`, { config: { access: 'public' }, schema: { hide: true } }, async (_request, reply) =>
      reply.code(503).send({ message: 'the dashboard was not built with this package (run npm run build in the Sisyphus repository)' }),
    );
    return;
  }
  await app.register(async (scope) => {
    // Every file route of the dashboard is public (see the doc comment).
    scope.addHook('onRoute', (route) => {
      route.config = { ...(route.config as object), access: 'public' };
      route.schema = { ...(route.schema ?? {}), hide: true };
    });
    await scope.register(fastifyStatic, {
      root,
      prefix: DASHBOARD_PREFIX,
      decorateReply: false,
      index: ['index.html'],
      redirect: true,
      // Hashed asset names never change; index.html must be looked at again.
      setHeaders(reply, path) {
        void reply.headers(SECURITY_HEADERS);
        void reply.header('cache-control', /[\\/]assets[\\/]/.test(path) ? 'public, max-age=31536000, immutable' : 'no-cache');
      },
    });
  });
}
