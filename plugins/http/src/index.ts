import { createRequire } from 'node:module';
import { definePlugin } from '@sisyphus/core';
import { type TransportFactory } from '@sisyphus/core/transport';
import { createHttpTransport } from './http-transport.js';
import type { HttpTransportOptions } from './http-transport-options.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

/** The `http` transport as the worker config names it (`transport: { name: 'http', options }`). */
export const httpTransportFactory: TransportFactory<HttpTransportOptions> = {
  name: 'http',
  description: 'The Sisyphus API over HTTP (our server with long-poll and leases, or the original Python server)',
  create: (options, context) => createHttpTransport({ ...(context?.logger ? { logger: context.logger } : {}), ...options }),
};

export { HttpTransport, createHttpTransport } from './http-transport.js';
export { resolveHttpTransportOptions, DEFAULT_API_URL, type HttpTransportOptions, type ResolvedHttpTransportOptions } from './http-transport-options.js';
export { featuresFromConfig } from './server-features.js';

/** The plugin: default export, loaded by `sisyphus worker` (also when no config lists it). */
export default definePlugin({ name: '@sisyphus/transport-http', version, transports: [httpTransportFactory] });
