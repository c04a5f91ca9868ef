// defineModule: `ctx.data` is typed from `schema`, `ctx.settings` from
// `settingsSchema` (a loose record without one); a class module gets its
// services, settings included, typed by its author; the object defineModule
// returns is the module contract (exactly one of `setup` or `task`).
import { expectTypeOf } from 'vitest';
import {
  TOKENS, Type, defineModule, definePlugin, inject, injectable, isTaskModule,
  type ClassTaskModule, type Logger, type ModuleContext, type SettingsOf, type SetupTaskModule, type Static,
  type TaskContext, type TaskHandler, type TaskModule,
} from '@sisyphus/core';

const HelloSchema = Type.Object(
  { who: Type.String(), tone: Type.Optional(Type.Union([Type.Literal('warm'), Type.Literal('dry')])) },
  { additionalProperties: false },
);
const HelloSettingsSchema = Type.Object({ greeting: Type.Optional(Type.String()), repeat: Type.Integer() }, { additionalProperties: false });
type HelloData = Static<typeof HelloSchema>;
type HelloSettings = Static<typeof HelloSettingsSchema>;

export const hello = defineModule({
  name: 'hello',
  schema: HelloSchema,
  settingsSchema: HelloSettingsSchema,
  setup(ctx) {
    expectTypeOf(ctx.data).toEqualTypeOf<HelloData>();
    expectTypeOf(ctx.data.tone).toEqualTypeOf<'warm' | 'dry' | undefined>();
    expectTypeOf(ctx.settings).toEqualTypeOf<HelloSettings>();
    expectTypeOf(ctx.settings.repeat).toEqualTypeOf<number>();
    expectTypeOf(ctx).toEqualTypeOf<TaskContext<HelloData, HelloSettings>>();
    // @ts-expect-error not a setting of this module
    void ctx.settings.greting;
    // @ts-expect-error not a field of the data
    void ctx.data.whom;
    return { run: () => ctx.logger.info(`${ctx.settings.greeting ?? 'hello'} ${ctx.data.who}`) };
  },
});
expectTypeOf(hello).toEqualTypeOf<SetupTaskModule<typeof HelloSchema, typeof HelloSettingsSchema>>();
expectTypeOf(hello.schema).toEqualTypeOf<typeof HelloSchema>();
expectTypeOf(hello.kind).toEqualTypeOf<'sisyphus-module'>();

// Without a settings schema: a loose record.
export const bare = defineModule({
  name: 'bare',
  schema: Type.Object({}),
  setup(ctx) {
    expectTypeOf(ctx.settings).toEqualTypeOf<Record<string, unknown>>();
    return { run() {} };
  },
});
expectTypeOf<SettingsOf<undefined>>().toEqualTypeOf<Record<string, unknown>>();
expectTypeOf<ModuleContext<typeof HelloSchema>>().toEqualTypeOf<TaskContext<HelloData, Record<string, unknown>>>();

// A class module, decorated: the author types what is injected (settings included).
@injectable()
class DecoratedHello implements TaskHandler {
  constructor(
    @inject(TOKENS.TaskData) private readonly data: HelloData,
    @inject(TOKENS.ModuleSettings) private readonly settings: SettingsOf<typeof HelloSettingsSchema>,
    @inject(TOKENS.Logger) private readonly logger: Logger,
  ) {}
  run() {
    this.logger.info(`${this.settings.greeting ?? 'hello'} ${this.data.who} x${this.settings.repeat}`);
  }
}
export const decorated = defineModule({ name: 'decorated', schema: HelloSchema, settingsSchema: HelloSettingsSchema, task: DecoratedHello });
expectTypeOf(decorated).toEqualTypeOf<ClassTaskModule<typeof HelloSchema, typeof HelloSettingsSchema>>();

// A class module without decorators: tokens in `static inject`.
class PlainHello implements TaskHandler {
  static inject = [TOKENS.TaskContext] as const;
  constructor(private readonly ctx: ModuleContext<typeof HelloSchema, typeof HelloSettingsSchema>) {}
  run() {
    this.ctx.logger.info(this.ctx.data.who.repeat(this.ctx.settings.repeat));
  }
}
export const plain = defineModule({ name: 'plain', schema: HelloSchema, task: PlainHello });

// The contract: exactly one of setup or task.
// @ts-expect-error neither setup nor task
defineModule({ name: 'x', schema: Type.Object({}) });
// @ts-expect-error a schema is required
defineModule({ name: 'x', setup: () => ({ run() {} }) });
// @ts-expect-error a handler needs run
defineModule({ name: 'x', schema: Type.Object({}), setup: () => ({ init() {} }) });

// Typed modules are TaskModules: plugins and engines take them as they are.
export const plugin = definePlugin({ name: 'hello-plugin', version: '1.0.0', modules: [hello, bare, decorated, plain] });
const unknownValue: unknown = hello;
if (isTaskModule(unknownValue)) expectTypeOf(unknownValue).toEqualTypeOf<TaskModule>();
export function handlerKind(module: TaskModule): 'setup' | 'task' {
  if (module.setup) {
    expectTypeOf(module.task).toEqualTypeOf<undefined>();
    return 'setup';
  }
  expectTypeOf(module.task).toMatchTypeOf<new (...args: never[]) => TaskHandler>();
  return 'task';
}
