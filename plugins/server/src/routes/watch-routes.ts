import type { FastifyInstance, FastifyReply } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { WATCH_RULE_NAME_PATTERN } from '@sisyphus/core/config';
import { MAX_PAGE_SIZE } from '../store/list-paging.js';
import { WatchApiError, type WatchService } from '../watch/watch-service.js';

const RuleParams = Type.Object({ name: Type.String({ pattern: WATCH_RULE_NAME_PATTERN, description: 'Rule name' }) });
const ScanQuery = Type.Object({
  dry_run: Type.Optional(Type.Boolean({ description: 'true: only list what would be submitted and why each other file is not (any server; nothing is written)' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000, description: 'Most file decisions listed (default 1000); counts cover every file' })),
});
const AttentionQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE_SIZE, description: `Page size, 1 to ${MAX_PAGE_SIZE} (default 100)` })),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 8192, description: 'The `next` of the previous page' })),
});
const FileQuery = Type.Object({ path: Type.String({ minLength: 1, maxLength: 4096, description: 'Absolute path of the file, as the rule lists it' }) });
/** A rule's fields are checked by the rule's own checks (every problem with its field), not here. */
const RuleBody = Type.Record(Type.String(), Type.Unknown(), { description: 'A watch rule: {folders, template, include?, exclude?, recursive?, min_age_seconds?, stable_seconds?, variables?, scan_interval_seconds?, poll?, poll_interval_seconds?, max_failures?, outputs_are_work?}' });

/** Answer a refusal of the watch API (its status, message and problems). */
function refuse(reply: FastifyReply, error: unknown) {
  if (!(error instanceof WatchApiError)) throw error;
  return reply.code(error.status).send({ message: error.message, ...(error.problems ? { problems: error.problems } : {}) });
}

/**
 * `/watch/rules`: the watch folder rules (config and API), their last scan
 * and scanner, dry runs and scans, and the files that need attention.
 * Admin only (no `access`: with tokens on, only an admin token passes).
 */
export function registerWatchRoutes(server: FastifyInstance, service: WatchService): void {
  const app = server.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['watch'];

  app.get('/watch/rules', { schema: { tags, summary: 'Every watch rule (config and API) with its last scan, its scanner and how many files need attention' } }, async (_request, reply) => {
    try {
      return { rules: await service.list() };
    } catch (error) {
      return refuse(reply, error);
    }
  });

  app.get('/watch/rules/:name', { schema: { tags, summary: 'One watch rule with its status', params: RuleParams } }, async (request, reply) => {
    try {
      return await service.get(request.params.name);
    } catch (error) {
      return refuse(reply, error);
    }
  });

  app.put(
    '/watch/rules/:name',
    { schema: { tags, summary: 'Create or replace a watch rule (kept in the store); 400 names each bad field; 409 for a rule of the server config', params: RuleParams, body: RuleBody } },
    async (request, reply) => {
      try {
        const { view, created } = await service.put(request.params.name, request.body);
        return reply.code(created ? 201 : 200).send(view);
      } catch (error) {
        return refuse(reply, error);
      }
    },
  );

  app.delete('/watch/rules/:name', { schema: { tags, summary: "Delete a watch rule made through the API (the files' records stay); 409 for a rule of the server config", params: RuleParams } }, async (request, reply) => {
    try {
      await service.delete(request.params.name);
      return reply.code(204).send();
    } catch (error) {
      return refuse(reply, error);
    }
  });

  app.post(
    '/watch/rules/:name/scan',
    {
      schema: {
        tags,
        summary: 'Scan the rule now; ?dry_run=true lists what would be submitted and why each other file is not, without writing anything. A real scan runs on the server scanning the rule (409 elsewhere)',
        params: RuleParams,
        querystring: ScanQuery,
      },
    },
    async (request, reply) => {
      try {
        return await service.scan(request.params.name, { dry: request.query.dry_run === true, ...(request.query.limit !== undefined ? { limit: request.query.limit } : {}) });
      } catch (error) {
        return refuse(reply, error);
      }
    },
  );

  app.get(
    '/watch/rules/:name/attention',
    { schema: { tags, summary: 'Files whose jobs failed max_failures times in a row: the rule submits nothing more for them until they are forgotten', params: RuleParams, querystring: AttentionQuery } },
    async (request, reply) => {
      try {
        return await service.attention(request.params.name, { limit: request.query.limit ?? 100, ...(request.query.cursor !== undefined ? { cursor: request.query.cursor } : {}) });
      } catch (error) {
        return refuse(reply, error);
      }
    },
  );

  app.get('/watch/rules/:name/files', { schema: { tags, summary: "The rule's record of one file (?path=): the version submitted, its job, outcome and failures", params: RuleParams, querystring: FileQuery } }, async (request, reply) => {
    try {
      const record = await service.file(request.params.name, request.query.path);
      if (!record) return reply.code(404).send({ message: `watch rule ${request.params.name} has no record of ${request.query.path}` });
      return record;
    } catch (error) {
      return refuse(reply, error);
    }
  });

  app.delete(
    '/watch/rules/:name/files',
    { schema: { tags, summary: 'Forget a file (?path=): its current version is judged as new (e.g. after it needed attention)', params: RuleParams, querystring: FileQuery } },
    async (request, reply) => {
      try {
        if (!(await service.forget(request.params.name, request.query.path))) return reply.code(404).send({ message: `watch rule ${request.params.name} has no record of ${request.query.path}` });
        return reply.code(204).send();
      } catch (error) {
        return refuse(reply, error);
      }
    },
  );
}
