import { describe, expect, it } from 'vitest';
import { JobError, Type, defineModule, jobRequirements, parseJob, type TaskModule } from '@sisyphus/core';

const noop = () => ({ run: () => undefined });
const registry = (...modules: TaskModule[]) => ({ get: (name: string) => {
  const module = modules.find((m) => m.name === name);
  return module ? { module } : undefined;
} });
const noData = async () => undefined;
const job = (extra: Record<string, unknown>) => ({ job_title: 't', tasks: [{ module: 'plain', data: {} }], ...extra });

describe('the job schema: requires', () => {
  it('is kept by parseJob', () => {
    const requires = { encoders: ['hevc_nvenc'], tags: ['gpu'], modules: ['ffmpeg'], binaries: ['HandBrakeCLI'], hwaccels: ['cuda'], gpus: ['nvidia'] };
    expect(parseJob(job({ requires })).requires).toEqual(requires);
    expect(parseJob(job({})).requires).toBeUndefined();
  });

  it.each([
    [{ encoder: ['x'] }, 'invalid job: requires.encoder is not an allowed field'],
    [{ encoders: 'hevc_nvenc' }, 'invalid job: requires.encoders must be an array'],
    [{ encoders: [7] }, 'invalid job: requires.encoders[0] must be a string'],
    [{ tags: ['gpu', 'has space'] }, 'invalid job: requires.tags[1] must match pattern'],
    [{ tags: ['c++'] }, 'invalid job: requires.tags[0] must match pattern'],
    [{ binaries: [''] }, 'invalid job: requires.binaries[0] must match pattern'],
    [{ gpus: ['nvidia', 'kind:gpu'] }, 'invalid job: requires.gpus[1] must match pattern'],
  ])('refuses %j with one line naming the field', (requires, message) => {
    let error: unknown;
    try {
      parseJob(job({ requires }));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(JobError);
    expect((error as Error).message.startsWith(message)).toBe(true);
    expect((error as Error).message).not.toContain('\n');
  });

  it('refuses a requires that is not an object', () => {
    expect(() => parseJob(job({ requires: ['gpu'] }))).toThrow(/^invalid job: requires must be an object/);
  });
});

describe('jobRequirements', () => {
  const plain = defineModule({ name: 'plain', schema: Type.Object({}), setup: noop });

  it('explicit requires plus each task\'s module; tags in lower case; explicit only when requires names something', async () => {
    expect(await jobRequirements(job({ requires: { tags: ['GPU'], encoders: ['hevc_nvenc'], gpus: ['nvidia'] } }), registry(plain), noData)).toEqual({
      all: ['encoder:hevc_nvenc', 'gpu:nvidia', 'module:plain', 'tag:gpu'],
      explicit: true,
    });
    expect(await jobRequirements(job({ requires: {} }), registry(plain), noData)).toEqual({ all: ['module:plain'], explicit: false });
    expect(await jobRequirements(job({ requires: { tags: [] } }), undefined, noData)).toEqual({ all: ['module:plain'], explicit: false });
    // A module the server does not know: just its name.
    expect(await jobRequirements({ job_title: 't', tasks: [{ module: 'elsewhere', data: {} }, { module: 'plain', data: {} }] }, registry(plain), noData)).toEqual({
      all: ['module:elsewhere', 'module:plain'],
      explicit: false,
    });
    expect(await jobRequirements({ job_title: 't' }, undefined, noData)).toBeUndefined();
    expect(await jobRequirements('nope', undefined, noData)).toBeUndefined();
  });

  it('adds what a module\'s requires hook returns, reading data through getData once per record', async () => {
    const reads: string[] = [];
    const hooked = defineModule({
      name: 'hooked',
      schema: Type.Object({ set: Type.String() }),
      setup: noop,
      requires: async (data, { getData }) => {
        const record = await getData('hooked', data.set);
        return [`encoder:${String(record?.encoder ?? 'none')}`, 'tag:Night'];
      },
    });
    const getData = async (module: string, name: string) => {
      reads.push(`${module}/${name}`);
      return name === 'fast' ? { encoder: 'libx264' } : undefined;
    };
    const doc = { job_title: 't', tasks: [{ module: 'hooked', data: { set: 'fast' } }, { module: 'hooked', data: { set: 'fast' } }, { module: 'hooked', data: { set: 'gone' } }] };
    expect(await jobRequirements(doc, registry(hooked), getData)).toEqual({
      all: ['encoder:libx264', 'encoder:none', 'module:hooked', 'tag:night'],
      explicit: false,
    });
    expect(reads).toEqual(['hooked/fast', 'hooked/gone']);
  });

  it('a hook returning something that is not kind:value is a TypeError naming the module', async () => {
    const bad = defineModule({ name: 'bad', schema: Type.Object({}), setup: noop, requires: () => ['ffmpeg'] });
    await expect(jobRequirements({ job_title: 't', tasks: [{ module: 'bad', data: {} }] }, registry(bad), noData)).rejects.toThrow(
      'module bad: requires() returned "ffmpeg", not kind:value with kind one of module, binary, encoder, hwaccel, gpu, tag',
    );
  });

  it('defineModule refuses hooks that are not functions', () => {
    expect(() => defineModule({ name: 'x', schema: Type.Object({}), setup: noop, requires: 'binary:x' as never })).toThrow('defineModule(x): requires must be a function');
    expect(() => defineModule({ name: 'x', schema: Type.Object({}), setup: noop, detect: {} as never })).toThrow('defineModule(x): detect must be a function');
  });
});
