import { describe, expect, it } from 'vitest';
import {
  TOKENS, Type, createEngine, defineModule, inject, injectable, ErrorCodes, InitializationError,
  type Logger, type PathGuard, type ProcessRunner, type TaskInfo, type DataStore, createMemoryDataStore,
} from '@sisyphus/core';

const seen: Record<string, unknown> = {};

@injectable()
class DecoratedTask {
  constructor(
    @inject(TOKENS.TaskData) private readonly data: { word: string },
    @inject(TOKENS.TaskInfo) private readonly info: TaskInfo,
    @inject(TOKENS.Logger) private readonly logger: Logger,
    @inject(TOKENS.ModuleSettings) private readonly settings: { greeting: string },
    @inject(TOKENS.DataStore) private readonly store: DataStore,
    @inject(TOKENS.ProcessRunner) private readonly runner: ProcessRunner,
    @inject(TOKENS.Workspace) private readonly workspace: string,
    @inject(TOKENS.AbortSignal) private readonly signal: AbortSignal,
    @inject(TOKENS.PathGuard) private readonly paths: PathGuard,
  ) {}

  async validate() {
    seen.preset = await this.store.get('decorated', 'preset');
  }

  async run() {
    const out = await this.runner.run(process.execPath, ['-e', 'console.log(process.argv[1])', this.data.word]);
    seen.exit = out.exitCode;
    seen.info = this.info;
    seen.workspace = this.workspace;
    seen.signal = this.signal instanceof AbortSignal;
    seen.cwd = this.paths.cwd;
    this.logger.info(`${this.settings.greeting} ${this.data.word}`);
  }
}

/** Decorator-free class: tokens listed in `static inject`. */
class PlainTask {
  static inject = [TOKENS.TaskData, TOKENS.Logger];
  constructor(private readonly data: { word: string }, private readonly logger: Logger) {}
  run() {
    this.logger.info(`plain ${this.data.word}`);
  }
}

describe('module declaration and DI', () => {
  it('injects every service by token into a decorated class', async () => {
    const module = defineModule({
      name: 'decorated',
      schema: Type.Object({ word: Type.String() }),
      settingsSchema: Type.Object({ greeting: Type.String() }),
      task: DecoratedTask,
    });
    const engine = createEngine({
      modules: [module],
      settings: { decorated: { greeting: 'hello' } },
      dataStore: createMemoryDataStore({ decorated: { preset: { name: 'preset', options: { a: 1 } } } }),
      worker: { hostname: 'box', id: 'w-1' },
    });
    const logs: string[] = [];
    engine.on('log', (l) => logs.push(`${l.module}#${l.index}: ${l.message}`));
    const result = await engine.run({ job_title: 'di', job_id: 'job-1', tasks: [{ module: 'decorated', data: { word: 'world' } }] });
    expect(result.completed).toBe(true);
    expect(result.job_id).toBe('job-1');
    expect(result.worker).toBe('box');
    expect(result.worker_id).toBe('w-1');
    expect(logs).toEqual(['decorated#0: hello world']);
    expect(seen.preset).toEqual({ name: 'preset', options: { a: 1 } });
    expect(seen.exit).toBe(0);
    expect(seen.info).toEqual({ index: 0, count: 1, module: 'decorated', jobId: 'job-1', jobTitle: 'di' });
    expect(String(seen.workspace)).toMatch(/sisyphus-job-.*1-decorated$/);
    expect(seen.signal).toBe(true);
  });

  it('constructs a decorator-free class from static inject', async () => {
    const module = defineModule({ name: 'plain', schema: Type.Object({ word: Type.String() }), task: PlainTask });
    const engine = createEngine({ modules: [module] });
    const logs: string[] = [];
    engine.on('log', (l) => logs.push(l.message));
    expect((await engine.run({ job_title: 'p', tasks: [{ module: 'plain', data: { word: 'x' } }] })).completed).toBe(true);
    expect(logs).toEqual(['plain x']);
  });

  it('checks module settings against the settings schema at engine creation', () => {
    const module = defineModule({
      name: 'strict', schema: Type.Object({}), settingsSchema: Type.Object({ path: Type.String() }, { additionalProperties: false }),
      setup: () => ({ run() {} }),
    });
    expect(() => createEngine({ modules: [module], settings: { strict: { path: 3 } } })).toThrow(
      'invalid settings for module strict: settings.strict.path must be a string',
    );
    try {
      createEngine({ modules: [module], settings: { strict: { path: 3 } } });
    } catch (e) {
      expect((e as { code: string }).code).toBe(ErrorCodes.SETTINGS_INVALID);
    }
  });

  it('refuses settings for a module nobody provides, unless an allowlist is given', () => {
    const module = defineModule({ name: 'one', schema: Type.Object({}), setup: () => ({ run() {} }) });
    expect(() => createEngine({ modules: [module], settings: { onne: {} } })).toThrow('settings.onne: no module "onne" is available (available: one)');
    expect(() => createEngine({ modules: [module], enabled: ['one'], settings: { other: {} } })).not.toThrow();
  });

  it('refuses malformed module definitions', () => {
    expect(() => defineModule({ name: 'bad name', schema: Type.Object({}), setup: () => ({ run() {} }) })).toThrow(/name must be/);
    // @ts-expect-error neither task nor setup
    expect(() => defineModule({ name: 'x', schema: Type.Object({}) })).toThrow(/exactly one of task/);
  });

  it('wraps what a module throws in the phase error class with module, index and cause', async () => {
    const boom = new TypeError('no ffmpeg here');
    const module = defineModule({ name: 'm', schema: Type.Object({}), setup: () => ({ init() { throw boom; }, run() {} }) });
    const engine = createEngine({ modules: [module] });
    let error: unknown;
    engine.on('task:phase', (e) => { if (e.status === 'failed') error = e.error; });
    const result = await engine.run({ job_title: 't', tasks: [{ module: 'm', data: {} }] });
    expect(result.code).toBe(ErrorCodes.INIT);
    expect(error).toBeInstanceOf(InitializationError);
    expect(error).toMatchObject({ module: 'm', taskIndex: 0, phase: 'init', cause: boom });
    expect((error as InitializationError).describe()).toBe('SIS_INIT m (task 1, init): no ffmpeg here');
  });

  it('disposes what the task container made that is disposable, once the job ends (and skips the work when nothing is)', async () => {
    const events: string[] = [];
    @injectable()
    class DisposableTask {
      run() {
        events.push('run');
      }
      cleanup() {
        events.push('cleanup');
      }
      dispose() {
        events.push('dispose');
      }
    }
    const disposable = defineModule({ name: 'disposable', schema: Type.Object({}), task: DisposableTask });
    const plain = defineModule({ name: 'plain', schema: Type.Object({}), setup: () => ({ run: () => void events.push('plain') }) });
    const engine = createEngine({ modules: [disposable, plain] });
    const result = await engine.run({ job_title: 'd', tasks: [{ module: 'disposable', data: {} }, { module: 'plain', data: {} }, { module: 'disposable', data: {} }] });
    expect(result.completed).toBe(true);
    expect(events).toEqual(['run', 'cleanup', 'plain', 'run', 'cleanup', 'dispose', 'dispose']);
  });
});
