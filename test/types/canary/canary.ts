// Each line marked `must fail` is wrong on purpose; every other line is fine.
// declarations.test.ts compiles this folder and expects errors on exactly the marked lines.
import { expectTypeOf } from 'vitest';
import { Type, createEngine, defineModule } from '@sisyphus/core';
import type { SourceMap } from '@sisyphus/module-ffmpeg';

expectTypeOf<SourceMap['specifier']>().toEqualTypeOf<string | undefined>(); // must fail: the letters are a literal union
expectTypeOf<SourceMap['specifier']>().toEqualTypeOf<'v' | 'V' | 'a' | 's' | 'd' | 't' | undefined>();

const mod = defineModule({
  name: 'canary',
  schema: Type.Object({ n: Type.Integer() }),
  settingsSchema: Type.Object({ level: Type.Integer() }),
  setup(ctx) {
    const level: number = ctx.settings.level;
    const wrong: string = ctx.settings.level; // must fail: settings are typed from settingsSchema
    return { run: () => void [level, wrong, ctx.data.n] };
  },
});
const engine = createEngine({ modules: [mod] });
void engine.run({ job_titel: 'x', tasks: [{ module: 'canary', data: {} }] }); // must fail: misspelled job_title
void engine.run({ job_title: 'x', tasks: [{ module: 'canary', data: {} }] });
engine.on('progress', (e) => e.percentage); // must fail: no such field
