import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../server-context.js';

const NAME = /^[\w][\w.-]{0,127}$/;

/** `/data/{module}/{name}`: server-side module data such as ffmpeg option sets. */
export function registerDataRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const { store } = ctx;
  const bad = (module: string, name?: string) =>
    !NAME.test(module) || (name !== undefined && !NAME.test(name)) ? 'module and name must be letters, digits, _, . or - (at most 128)' : undefined;

  app.get('/data/:module', { config: { access: ['worker', 'submitter'] }, schema: { tags: ['data'], summary: 'Names of the data records of a module' } }, async (request, reply) => {
    const { module } = request.params as { module: string };
    const problem = bad(module);
    if (problem) return reply.code(400).send({ message: problem });
    return { module, names: await store.listData(module) };
  });

  app.get('/data/:module/:name', { config: { access: ['worker', 'submitter'] }, schema: { tags: ['data'], summary: 'One record, e.g. an ffmpeg option set {name, options}' } }, async (request, reply) => {
    const { module, name } = request.params as { module: string; name: string };
    const problem = bad(module, name);
    if (problem) return reply.code(400).send({ message: problem });
    const record = await store.getData(module, name);
    if (!record) return reply.code(404).send({ message: `no ${module} data named ${name}` });
    return record;
  });

  app.post('/data/:module/:name', { schema: { tags: ['data'], summary: 'Store a record (an object); for ffmpeg: {name?, options}' } }, async (request, reply) => {
    const { module, name } = request.params as { module: string; name: string };
    const problem = bad(module, name);
    if (problem) return reply.code(400).send({ message: problem });
    const body = request.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return reply.code(400).send({ message: 'the record must be a JSON object' });
    if (module === 'ffmpeg' && (typeof (body as { options?: unknown }).options !== 'object' || (body as { options?: unknown }).options === null)) {
      return reply.code(400).send({ message: 'an ffmpeg option set needs an options object' });
    }
    const record = { ...(body as Record<string, unknown>), name };
    await store.putData(module, name, record);
    return record;
  });

  app.delete('/data/:module/:name', { schema: { tags: ['data'], summary: 'Delete a record' } }, async (request, reply) => {
    const { module, name } = request.params as { module: string; name: string };
    if (await store.deleteData(module, name)) return reply.code(204).send();
    return reply.code(404).send({ message: `no ${module} data named ${name}` });
  });
}
