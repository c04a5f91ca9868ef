import type { Logger } from '../container/services.js';
import type { GpuDevice, ModuleDetection } from '../module/module-hooks.js';
import type { TaskModule } from '../module/task-module.js';
import { createProcessRunner, type ProcessRunner } from '../process/process-runner.js';
import { detectGpus, gpuVendors } from './detect-gpus.js';
import type { WorkerCapabilities } from './worker-capabilities.js';

/** Default of {@link DetectCapabilitiesOptions.timeoutMs}. */
export const DETECT_TIMEOUT_MS = 15_000;

/** Options of {@link detectWorkerCapabilities}. */
export interface DetectCapabilitiesOptions {
  /** The loaded modules: an engine's `modules` registry, or a list. */
  modules: { list(): ReadonlyArray<{ module: TaskModule }> } | readonly TaskModule[];
  /** Module settings by module name (the config's `settings`): each `detect` hook gets its module's. */
  settings?: Record<string, Record<string, unknown>>;
  /** The operator's tags (`worker.tags`, `--tag`), already checked (see `resolveWorkerSettings`). */
  tags?: readonly string[];
  /** Runs the programs the hooks ask about. Default: a new process runner. */
  runner?: ProcessRunner;
  /**
   * Longest a module's `detect` hook (and each program it runs) may take,
   * in milliseconds; then its programs are killed and it contributes
   * nothing. Hooks run at the same time. Default {@link DETECT_TIMEOUT_MS}.
   */
  timeoutMs?: number;
  /** Stops detection (the worker stopping): hooks still running contribute nothing. */
  signal?: AbortSignal;
  /** Where the hooks say what they could not find (a binary that does not answer). */
  logger?: Logger;
  /** GPU devices, when already known (default: {@link detectGpus}). */
  gpus?: readonly GpuDevice[];
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));
const sorted = (values: Iterable<string>) => [...new Set(values)].sort();

/** Run one module's hook with its own deadline; `undefined` when it threw or ran out of time. */
async function runHook(module: TaskModule, options: DetectCapabilitiesOptions, runner: ProcessRunner, gpus: readonly GpuDevice[], timeoutMs: number): Promise<ModuleDetection | undefined> {
  const deadline = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, deadline.signal]) : deadline.signal;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => {
      deadline.abort(new Error('detection timed out'));
      resolve('late');
    }, timeoutMs);
  });
  try {
    const context = { settings: options.settings?.[module.name] ?? {}, runner, signal, timeoutMs, gpus, ...(options.logger ? { logger: options.logger } : {}) };
    const outcome = await Promise.race([Promise.resolve(module.detect!(context as never)), late]);
    if (outcome === 'late') {
      options.logger?.warn(`module ${module.name}: capability detection took longer than ${timeoutMs / 1000} s; it advertises only its name`);
      return undefined;
    }
    return outcome && typeof outcome === 'object' ? outcome : undefined;
  } catch (error) {
    options.logger?.warn(`module ${module.name}: capability detection failed (${message(error)}); it advertises only its name`);
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * What this worker can do, found at start-up: the modules loaded, GPU
 * devices (core looks for them itself, see {@link detectGpus}), what each
 * module's `detect` hook reports (binaries and versions, ffmpeg's encoders
 * and hardware acceleration methods), and the operator's tags. Never
 * rejects: a missing binary is absent, a hook that fails or runs out of
 * time contributes nothing (logged). Bounded by `timeoutMs`.
 *
 * @example
 * const capabilities = await detectWorkerCapabilities({ modules: engine.modules, settings: config.settings, tags: ['gpu'] });
 * createWorker({ engine, transport, workerId, capabilities });
 */
export async function detectWorkerCapabilities(options: DetectCapabilitiesOptions): Promise<WorkerCapabilities> {
  const modules = Array.isArray(options.modules)
    ? (options.modules as readonly TaskModule[])
    : (options.modules as { list(): ReadonlyArray<{ module: TaskModule }> }).list().map((e) => e.module);
  const gpus = options.gpus ?? (await detectGpus().catch(() => []));
  const runner = options.runner ?? createProcessRunner();
  const timeoutMs = options.timeoutMs ?? DETECT_TIMEOUT_MS;
  const byName = [...modules].sort((a, b) => a.name.localeCompare(b.name));
  const found = await Promise.all(byName.map((m) => (typeof m.detect === 'function' ? runHook(m, options, runner, gpus, timeoutMs) : undefined)));
  const binaries: Record<string, string> = {};
  const encoders: string[] = [];
  const hwaccels: string[] = [];
  for (const [i, detection] of found.entries()) {
    if (!detection) continue;
    for (const [name, version] of Object.entries(detection.binaries ?? {})) {
      if (typeof version !== 'string') continue;
      // Two modules may find one program (ffprobe): the first module by name tells its version.
      if (binaries[name] !== undefined && binaries[name] !== version) {
        options.logger?.debug(`module ${byName[i]!.name} found ${name} ${version}; ${binaries[name]} (found first) is advertised`);
        continue;
      }
      binaries[name] = version;
    }
    if (Array.isArray(detection.encoders)) encoders.push(...detection.encoders.filter((e) => typeof e === 'string' && e !== ''));
    if (Array.isArray(detection.hwaccels)) hwaccels.push(...detection.hwaccels.filter((h) => typeof h === 'string' && h !== ''));
  }
  return {
    modules: sorted(modules.map((m) => m.name)),
    binaries: Object.fromEntries(Object.entries(binaries).sort(([a], [b]) => a.localeCompare(b))),
    encoders: sorted(encoders),
    hwaccels: sorted(hwaccels),
    gpus: gpuVendors(gpus),
    tags: sorted((options.tags ?? []).map((t) => t.toLowerCase())),
  };
}
