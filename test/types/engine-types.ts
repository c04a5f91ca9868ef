// engine.run(job) takes a typed job: misspelled keys do not compile, a
// task's data for any module (known or not) is allowed; events are typed.
import { expectTypeOf } from 'vitest';
import {
  Type, createEngine, defineModule,
  type Engine, type EngineEvents, type Job, type JobInput, type JobResult, type LogEvent, type ProgressEvent, type Task, type TaskPhaseEvent,
} from '@sisyphus/core';
import { ffmpegModule } from '@sisyphus/module-ffmpeg';

const echo = defineModule({ name: 'echo', schema: Type.Object({ text: Type.String() }), setup: (ctx) => ({ run: () => ctx.logger.info(ctx.data.text) }) });
const engine = createEngine({ modules: [echo, ffmpegModule], allowedRoots: ['/srv/media'] });
expectTypeOf(engine).toEqualTypeOf<Engine>();

// Job types from the job schema.
expectTypeOf<Task>().toEqualTypeOf<{ module: string; data: Record<string, unknown> }>();
expectTypeOf<JobInput['tasks']>().toEqualTypeOf<Task[]>();
expectTypeOf<JobInput['priority']>().toEqualTypeOf<number | undefined>();
expectTypeOf<Job['job_title']>().toEqualTypeOf<string>();

export async function runs(signal: AbortSignal): Promise<JobResult[]> {
  const results = [
    await engine.run({ job_title: 'hello', tasks: [{ module: 'echo', data: { text: 'hi' } }] }, { signal }),
    // A module this engine may not know, with any data: checked at run time, not compile time.
    await engine.run({ job_name: 'seed', job_id: 'j-1', priority: 5, tasks: [{ module: 'someone-elses', data: { anything: [1, { goes: true }] } }] }),
    // Placeholders are rendered before the check.
    await engine.run({ job_title: '{{ title }}', tasks: [{ module: 'echo', data: { text: '{{ text }}' } }] }, { variables: { title: 't', text: 'x' } }),
  ];
  const parsed: Job = { job_title: 'parsed', tasks: [{ module: 'echo', data: { text: 'x' } }] };
  results.push(await engine.run(parsed));
  // @ts-expect-error misspelled job_title
  await engine.run({ job_titel: 'x', tasks: [{ module: 'echo', data: {} }] });
  // @ts-expect-error misspelled tasks
  await engine.run({ job_title: 'x', taks: [{ module: 'echo', data: {} }] });
  // @ts-expect-error misspelled module
  await engine.run({ job_title: 'x', tasks: [{ modul: 'echo', data: {} }] });
  // @ts-expect-error tasks are required
  await engine.run({ job_title: 'x' });
  // @ts-expect-error priority is an integer
  await engine.run({ job_title: 'x', priority: 'high', tasks: [] });
  // @ts-expect-error a document of unknown shape is not a job: say what it is (`doc as JobInput`), the engine checks it
  await engine.run(JSON.parse('{}') as unknown);
  const plan = await engine.validate({ job_title: 'plan', tasks: [{ module: 'echo', data: { text: 'x' } }] });
  expectTypeOf(plan.tasks[0]!.plan).toEqualTypeOf<string[]>();
  expectTypeOf(results[0]!.completed).toEqualTypeOf<boolean>();
  return results;
}

// Events: payloads typed by name, unknown names refused.
engine.on('progress', (e) => {
  expectTypeOf(e).toEqualTypeOf<ProgressEvent>();
  expectTypeOf(e.percent).toEqualTypeOf<number | undefined>();
  expectTypeOf(e.fps).toEqualTypeOf<number | undefined>();
  expectTypeOf(e.module).toEqualTypeOf<string>();
});
engine.on('task:phase', (e) => {
  expectTypeOf(e).toEqualTypeOf<TaskPhaseEvent>();
  expectTypeOf(e.phase).toEqualTypeOf<'init' | 'validate' | 'run' | 'cleanup'>();
  expectTypeOf(e.status).toEqualTypeOf<'start' | 'end' | 'failed'>();
});
engine.on('log', (e) => expectTypeOf(e).toEqualTypeOf<LogEvent>());
engine.once('job:end', (e) => expectTypeOf(e.result).toEqualTypeOf<JobResult>());
engine.on('job:start', (e) => expectTypeOf(e.job).toEqualTypeOf<Job>());
// @ts-expect-error no such event
engine.on('progres', () => undefined);
// @ts-expect-error a progress event has no `percentage`
engine.on('progress', (e) => e.percentage);
expectTypeOf<keyof EngineEvents>().toEqualTypeOf<'job:start' | 'job:end' | 'task:phase' | 'progress' | 'log'>();
