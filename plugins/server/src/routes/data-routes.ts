import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ServerContext } from '../server-context.js';
import { DataModuleParams, DataRecordBody, DataRecordParams } from './route-schemas.js';

/** `/data/{module}/{name}`: server-side module data such as ffmpeg option sets. */
export function registerDataRoutes(server: FastifyInstance, ctx: ServerContext): void {
  const app = server.withTypeProvider<TypeBoxTypeProvider>();
  const { store } = ctx;

  app.get(
    '/data',
    { config: { access: ['worker', 'submitter'] }, schema: { tags: ['data'], summary: 'The modules this server knows, each with the names of its data records: {modules: [{module, names}]}' } },
    async () => {
      const modules = ctx.registry?.names() ?? [];
      return { modules: await Promise.all(modules.map(async (module) => ({ module, names: await store.listData(module) }))) };
    },
  );

  app.get('/data/:module', { config: { access: ['worker', 'submitter'] }, schema: { tags: ['data'], summary: 'Names of the data records of a module', params: DataModuleParams } }, async (request) => {
    const { module } = request.params;
    return { module, names: await store.listData(module) };
  });

  app.get(
    '/data/:module/:name',
    { config: { access: ['worker', 'submitter'] }, schema: { tags: ['data'], summary: 'One record, e.g. an ffmpeg option set {name, options}', params: DataRecordParams } },
    async (request, reply) => {
      const { module, name } = request.params;
      const record = await store.getData(module, name);
      if (!record) return reply.code(404).send({ message: `no ${module} data named ${name}` });
      return record;
    },
  );

  app.post(
    '/data/:module/:name',
    { schema: { tags: ['data'], summary: 'Store a record (an object); for ffmpeg: {name?, options}', params: DataRecordParams, body: DataRecordBody } },
    async (request, reply) => {
      const { module, name } = request.params;
      const body = request.body as Record<string, unknown>;
      if (module === 'ffmpeg' && (typeof body.options !== 'object' || body.options === null)) {
        return reply.code(400).send({ message: 'an ffmpeg option set needs an options object' });
      }
      const record = { ...body, name };
      await store.putData(module, name, record);
      return record;
    },
  );

  app.delete('/data/:module/:name', { schema: { tags: ['data'], summary: 'Delete a record', params: DataRecordParams } }, async (request, reply) => {
    const { module, name } = request.params;
    if (await store.deleteData(module, name)) return reply.code(204).send();
    return reply.code(404).send({ message: `no ${module} data named ${name}` });
  });
}
