import { chainDataStores } from '../../data/data-store.js';
import { transportDataStore } from '../../data/transport-data-store.js';
import type { Engine } from '../../engine/engine.js';
import { ConfigError } from '../../module/errors.js';
import { ErrorCodes } from '../../module/error-codes.js';
import { createEngineFromConfig, dataStoreFromConfig } from '../../plugin/engine-from-config.js';
import { loadConfig } from '../../plugin/load-config.js';
import { loadPlugins } from '../../plugin/load-plugins.js';
import { buildRegistry } from '../../plugin/module-registry.js';
import { killAllGroups } from '../../process/process-groups.js';
import { createWorker } from '../../worker/create-worker.js';
import { detectWorkerCapabilities } from '../../worker/detect-capabilities.js';
import type { WorkerCapabilities } from '../../worker/worker-capabilities.js';
import { createTransport, findTransport } from '../../worker/load-transport.js';
import { loadOrCreateWorkerId } from '../../worker/worker-id.js';
import { resolveWorkerSettings } from '../../worker/worker-settings.js';
import { createFileOutbox } from '../../worker/result-outbox.js';
import { join } from 'node:path';
import { ExitCodes } from '../exit-codes.js';
import type { Logger as PinoLogger } from 'pino';
import { asLogger, createCliLogger } from '../logger.js';
import { UNKNOWN_TOTAL_LOG_INTERVAL_MS, failureWord, progressDetails } from '../reporters/reporter.js';
import type { GlobalOptions } from './shared.js';

/** Options of `sisyphus worker`. */
export interface WorkerCommandOptions extends GlobalOptions {
  /** API URL (beats `API_URL` and the config). */
  api?: string;
  /** Bearer token (beats `SISYPHUS_TOKEN` and the config). */
  token?: string;
  /** Jobs at once (beats the config). */
  concurrency?: string;
  /** `json` or `pretty` (beats `LOG_FORMAT`; default: pretty on a terminal). */
  logFormat?: string;
  /** `--tag` (repeatable): tags added to the config's `worker.tags`. */
  tag?: string[];
}

/** One line saying what a worker advertises. */
function describeCapabilities(c: WorkerCapabilities): string {
  const binaries = Object.entries(c.binaries).map(([name, version]) => `${name} ${version}`);
  const parts = [
    `binaries: ${binaries.join(', ') || 'none'}`,
    `${c.encoders.length} encoder${c.encoders.length === 1 ? '' : 's'}`,
    `hwaccels: ${c.hwaccels.join(', ') || 'none'}`,
    `gpus: ${c.gpus.join(', ') || 'none'}`,
    `tags: ${c.tags.join(', ') || 'none'}`,
  ];
  return `capabilities: ${parts.join('; ')}`;
}

/**
 * Log the engine's job events through `log`, each under its job and task
 * (`jobId`, `task` (1-based), `module`): task phases, progress every 10 %
 * (while a task's total is unknown: its frames/fps/speed every
 * `unknownEveryMs`), module logs (their fields under `fields`). A run that
 * fails or is cancelled is logged with the percent it reached, never 100.
 */
export function logJobs(engine: Engine, log: PinoLogger, unknownEveryMs = UNKNOWN_TOTAL_LOG_INTERVAL_MS): void {
  const steps = new Map<string, number>();
  /** Per task: last percent (undefined: unknown total) and when a line without percent was last logged. */
  const last = new Map<string, { percent?: number; unknownAt?: number }>();
  /** Per job and per task: its child logger (bindings are serialized once, not on every line). */
  const children = new Map<string, PinoLogger>();
  const taskLog = (jobId: string, index: number | undefined, module: string | undefined): PinoLogger => {
    const key = `${jobId}/${index ?? ''}/${module ?? ''}`;
    let child = children.get(key);
    if (!child) {
      child = log.child({ jobId, ...(index !== undefined ? { task: index + 1 } : {}), ...(module !== undefined ? { module } : {}) });
      children.set(key, child);
    }
    return child;
  };
  engine.on('task:phase', (e) => {
    const tlog = taskLog(e.jobId, e.index, e.module);
    if (e.status === 'failed') {
      const percent = e.phase === 'run' ? last.get(`${e.jobId}/${e.index}`)?.percent : undefined;
      tlog.warn(`${e.phase} ${failureWord(e.error)}${percent !== undefined ? ` at ${Math.floor(percent)}%` : ''}: ${e.error?.message ?? ''}`);
    } else if (e.phase === 'run' && e.status === 'start') tlog.info('running');
    else tlog.debug(`${e.phase} ${e.status}`);
  });
  engine.on('progress', (p) => {
    const key = `${p.jobId}/${p.index}`;
    const state = last.get(key) ?? {};
    last.set(key, state);
    state.percent = p.percent;
    if (p.percent === undefined) {
      const now = Date.now();
      if (state.unknownAt !== undefined && now - state.unknownAt < unknownEveryMs) return;
      state.unknownAt = now;
      const details = progressDetails(p);
      taskLog(p.jobId, p.index, p.module).info(`${details ? `${details} ` : ''}(total unknown)`);
      return;
    }
    const step = Math.floor(p.percent / 10);
    if ((steps.get(key) ?? -1) >= step) return;
    steps.set(key, step);
    taskLog(p.jobId, p.index, p.module).info(`${Math.floor(p.percent)}%`);
  });
  engine.on('log', (l) => {
    const tlog = taskLog(l.jobId, l.index, l.module);
    if (l.fields && Object.keys(l.fields).length) tlog[l.level]({ fields: l.fields }, l.message);
    else tlog[l.level](l.message);
  });
  engine.on('job:end', (e) => {
    for (const map of [steps, last, children]) for (const key of map.keys()) if (key.startsWith(`${e.jobId}/`)) map.delete(key);
  });
}

/**
 * `sisyphus worker`: take jobs from the server (the configured transport,
 * `http` by default) and run them until SIGTERM/SIGINT. The first signal
 * stops polling and lets running jobs finish (exit 0); a second aborts them:
 * their processes are killed and they are reported so the server queues them
 * again (exit 130). A third kills every process group at once and exits.
 */
export async function workerCommand(options: WorkerCommandOptions, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const root = await createCliLogger({ verbose: !!options.verbose, ...(options.logFormat ? { format: options.logFormat } : {}) }, env);
  const log = root.child({ component: 'worker' });
  const loaded = await loadConfig(options.config ? { path: options.config } : {});
  let concurrency: number | undefined;
  if (options.concurrency !== undefined) {
    concurrency = Number(options.concurrency);
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new ConfigError(`--concurrency must be a whole number >= 1 (got ${options.concurrency})`, { code: ErrorCodes.USAGE });
    }
  }
  const settings = resolveWorkerSettings(loaded.config, loaded.dir, env, {
    ...(options.api ? { api: options.api } : {}),
    ...(options.token ? { token: options.token } : {}),
    ...(concurrency ? { concurrency } : {}),
    ...(options.tag?.length ? { tags: options.tag } : {}),
  });
  const found = await findTransport(settings.transport.name, await loadPlugins(loaded.config.plugins, loaded.dir));
  // The plugins' modules: a transport that takes reports itself (the direct Redis one) derives child jobs' requirements from them.
  const transport = await createTransport(found.factory, settings.transport.options, asLogger(root.child({ component: 'transport' })), buildRegistry(found.plugins));
  const workerId = settings.id ?? (await loadOrCreateWorkerId(settings.stateDir, { logger: asLogger(log) }));
  // Server data first (option sets live there); the config's local data as a fallback.
  const engine = await createEngineFromConfig(loaded, {
    plugins: found.plugins,
    dataStore: chainDataStores(transportDataStore(transport), dataStoreFromConfig(loaded)),
    worker: { hostname: settings.hostname, id: workerId },
  });
  logJobs(engine, log);
  // Found while the worker starts; its startup heartbeat waits for them (capability routing).
  const capabilities = detectWorkerCapabilities({
    modules: engine.modules,
    ...(loaded.config.settings ? { settings: loaded.config.settings } : {}),
    tags: settings.tags,
    logger: asLogger(log),
  }).then((found) => {
    log.info(describeCapabilities(found));
    return found;
  });

  const worker = createWorker({
    outbox: createFileOutbox(join(settings.stateDir, 'outbox', workerId)),
    engine,
    transport,
    workerId,
    hostname: settings.hostname,
    heartbeatIntervalMs: settings.heartbeatIntervalMs,
    pollIntervalMs: settings.pollIntervalMs,
    networkRetryIntervalMs: settings.networkRetryIntervalMs,
    concurrency: settings.concurrency,
    logger: asLogger(log),
    capabilities,
  });
  const where = typeof settings.transport.options.apiUrl === 'string' ? ` ${settings.transport.options.apiUrl}` : '';
  const modules = engine.modules.names();
  log.info(
    `${settings.hostname}: transport ${settings.transport.name}${where}, modules: ${modules.join(', ') || 'none'}${loaded.filepath ? `, config ${loaded.filepath}` : ''}`,
  );
  if (!loaded.config.allowedRoots?.length) {
    log.warn(`allowedRoots is not set${loaded.filepath ? ` in ${loaded.filepath}` : ' (no config file)'}: jobs may read and write any path this user can; set allowedRoots to the folders jobs may use`);
  }

  let signals = 0;
  let aborted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    signals += 1;
    if (signals === 1) {
      log.info(`${signal}: stopping; running jobs finish first (send ${signal} again to abort them)`);
      void worker.stop();
    } else if (signals === 2) {
      aborted = true;
      log.warn(`${signal}: aborting running jobs; they are reported so the server queues them again (again to kill at once)`);
      void worker.stop({ abort: true });
    } else {
      log.error(`${signal}: killing every process and exiting`);
      killAllGroups('SIGKILL');
      process.exit(ExitCodes.CANCELLED);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    worker.start();
    await worker.finished();
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await transport.close();
  }
  return aborted ? ExitCodes.CANCELLED : ExitCodes.OK;
}
