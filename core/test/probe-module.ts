import { Type, defineModule, RunError, type TaskContext } from '@sisyphus/core';

/** Calls seen by probe tasks, as `name:phase` (cleanup adds `:failed` when run failed). */
export const calls: string[] = [];

const ProbeSchema = Type.Object(
  {
    name: Type.String(),
    fail: Type.Optional(Type.Union([Type.Literal('init'), Type.Literal('validate'), Type.Literal('run'), Type.Literal('cleanup')])),
    /** Throw a plain Error instead of a Sisyphus error, to test tagging. */
    plain: Type.Optional(Type.Boolean()),
    /** Wait this long in run, honouring the signal unless `ignoreSignal`. */
    sleepMs: Type.Optional(Type.Integer()),
    ignoreSignal: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

function maybeFail(ctx: TaskContext<{ name: string; fail?: string; plain?: boolean }>, phase: string) {
  if (ctx.data.fail !== phase) return;
  if (ctx.data.plain) throw new Error(`${ctx.data.name} broke in ${phase}`);
  throw new RunError(`${ctx.data.name} broke in ${phase}`);
}

/** A module that records its lifecycle and fails where told. */
export const probeModule = defineModule({
  name: 'probe',
  schema: ProbeSchema,
  setup(ctx) {
    const name = ctx.data.name;
    return {
      init() {
        calls.push(`${name}:init`);
        maybeFail(ctx, 'init');
      },
      validate() {
        calls.push(`${name}:validate`);
        maybeFail(ctx, 'validate');
      },
      async run() {
        calls.push(`${name}:run`);
        ctx.progress.report({ percent: 50, fps: 10 });
        if (ctx.data.sleepMs) {
          await new Promise<void>((resolve, reject) => {
            const t = setTimeout(resolve, ctx.data.sleepMs);
            if (!ctx.data.ignoreSignal) ctx.signal.addEventListener('abort', () => { clearTimeout(t); reject(new Error('aborted')); });
          });
        }
        maybeFail(ctx, 'run');
      },
      cleanup(outcome) {
        calls.push(`${name}:cleanup${outcome.failed ? ':failed' : ''}${outcome.cancelled ? ':cancelled' : ''}`);
        maybeFail(ctx, 'cleanup');
      },
    };
  },
});
