import { describe, expect, it } from 'vitest';
import {
  TOKENS, Type, createEngine, defineModule, inject, injectable, ErrorCodes, InitializationError,
  type Logger, type PathGuard, type ProcessRunner, type TaskInfo, type DataStore, createMemoryDataStore,
  isTaskModule, type TaskContext,
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

  it('builds a class module a real tsyringe child container per task (classes it depends on get that task\'s services) and disposes it when the job ends', async () => {
    const events: string[] = [];
    @injectable()
    class Helper {
      constructor(@inject(TOKENS.TaskInfo) private readonly info: TaskInfo) {}
      where() {
        return `task ${this.info.index}`;
      }
      dispose() {
        events.push(`dispose helper of task ${this.info.index}`);
      }
    }
    @injectable()
    class DisposableTask {
      constructor(@inject(Helper) private readonly helper: Helper) {}
      run() {
        events.push(`run ${this.helper.where()}`);
      }
      cleanup() {
        events.push('cleanup');
      }
      dispose() {
        events.push('dispose task');
      }
    }
    const disposable = defineModule({ name: 'disposable', schema: Type.Object({}), task: DisposableTask });
    const plain = defineModule({ name: 'plain', schema: Type.Object({}), setup: (ctx) => ({ run: () => void events.push(`plain task ${ctx.task.index}`) }) });
    const engine = createEngine({ modules: [disposable, plain] });
    const result = await engine.run({ job_title: 'd', tasks: [{ module: 'disposable', data: {} }, { module: 'plain', data: {} }, { module: 'disposable', data: {} }] });
    expect(result.completed).toBe(true);
    expect(events).toEqual([
      'run task 0', 'cleanup', 'plain task 1', 'run task 2', 'cleanup',
      'dispose helper of task 0', 'dispose task', 'dispose helper of task 2', 'dispose task',
    ]);
  });

  it('gives a setup module its context directly: the same object a class module resolves as TOKENS.TaskContext', async () => {
    const seenContexts: unknown[] = [];
    class ContextTask {
      static inject = [TOKENS.TaskContext, TOKENS.TaskData, TOKENS.ModuleSettings, TOKENS.Workspace];
      constructor(ctx: TaskContext, data: unknown, settings: unknown, workspace: string) {
        seenContexts.push(ctx);
        expect(data).toBe(ctx.data);
        expect(settings).toBe(ctx.settings);
        expect(workspace).toBe(ctx.workspace);
      }
      run() {}
    }
    const byClass = defineModule({ name: 'by-class', schema: Type.Object({ n: Type.Integer() }), task: ContextTask });
    const bySetup = defineModule({
      name: 'by-setup',
      schema: Type.Object({ n: Type.Integer() }),
      settingsSchema: Type.Object({ level: Type.Integer() }),
      setup(ctx) {
        seenContexts.push(ctx);
        return { run: () => void expect([ctx.data.n, ctx.settings.level, ctx.task.module]).toEqual([2, 7, 'by-setup']) };
      },
    });
    const engine = createEngine({ modules: [byClass, bySetup], settings: { 'by-setup': { level: 7 } } });
    const result = await engine.run({ job_title: 'c', tasks: [{ module: 'by-class', data: { n: 1 } }, { module: 'by-setup', data: { n: 2 } }] });
    expect(result.completed, result.message).toBe(true);
    expect(seenContexts.map((c) => (c as TaskContext).task.index)).toEqual([0, 1]);
    expect(seenContexts.map((c) => Object.keys(c as object).sort())).toEqual([CONTEXT_KEYS, CONTEXT_KEYS]);
  });

  it('the module is the definition, frozen: exactly one of setup or task, recognised by isTaskModule', () => {
    const setup = () => ({ run() {} });
    const module = defineModule({ name: 'shape', description: 'd', schema: Type.Object({}), setup });
    expect(module).toEqual({ kind: 'sisyphus-module', name: 'shape', description: 'd', schema: Type.Object({}), setup });
    expect(Object.isFrozen(module)).toBe(true);
    expect(isTaskModule(module)).toBe(true);
    expect(isTaskModule(defineModule({ name: 'cls', schema: Type.Object({}), task: PlainTask }))).toBe(true);
    expect(isTaskModule({ ...module, task: PlainTask })).toBe(false);
    expect(isTaskModule({ kind: 'sisyphus-module', name: 'old', schema: {}, create: () => ({ run() {} }) })).toBe(false);
  });
});

const CONTEXT_KEYS = [
  'activity', 'children', 'data', 'dataStore', 'jobWorkspace', 'logger', 'outputFiles', 'outputs', 'paths', 'progress', 'runner', 'settings', 'signal', 'task', 'workspace',
];
