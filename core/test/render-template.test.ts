import { describe, expect, it } from 'vitest';
import { ErrorCodes, JobError, Type, parseJob, renderTemplate, schemaProblems, templateVariables } from '@sisyphus/core';

describe('renderTemplate', () => {
  it('fills placeholders with or without spaces, anywhere in strings, nested in arrays and objects', () => {
    const doc = { a: '{{x}}', b: ['pre {{ x }} post', { c: '{{  y  }}/{{x}}' }], n: 3, t: true, z: null };
    expect(renderTemplate(doc, { x: 'X', y: 'Y' })).toEqual({ a: 'X', b: ['pre X post', { c: 'Y/X' }], n: 3, t: true, z: null });
  });

  it('inserts values as data: quotes, braces and }} survive and are never re-parsed', () => {
    const title = 'Tom & "Jerry" {{ y }} }} \\ \n end';
    const out = renderTemplate({ job_title: '{{ title }}', s: 'a {{ title }} b' }, { title, y: 'SHOULD-NOT-APPEAR' });
    expect(out.job_title).toBe(title);
    expect(out.s).toBe(`a ${title} b`);
    expect(JSON.parse(JSON.stringify(out)).job_title).toBe(title);
  });

  it('keeps the type of a variable that fills a whole string, stringifies it inside text', () => {
    const out = renderTemplate({ crf: '{{ crf }}', opts: '{{ o }}', s: 'crf={{ crf }}' }, { crf: 19, o: { a: 1 } });
    expect(out).toEqual({ crf: 19, opts: { a: 1 }, s: 'crf=19' });
  });

  it('supports dotted names into nested variables', () => {
    expect(renderTemplate({ a: '{{ show.name }}' }, { show: { name: 'S' } })).toEqual({ a: 'S' });
  });

  it('reports every unfilled placeholder with its location, before anything runs', () => {
    const doc = { job_title: '{{ t }}', tasks: [{ module: 'm', data: { sources: ['{{ source_file }}'], 'odd key': 'x {{ t }}' } }] };
    let error: JobError | undefined;
    try {
      renderTemplate(doc, {});
    } catch (e) {
      error = e as JobError;
    }
    expect(error).toBeInstanceOf(JobError);
    expect(error!.code).toBe(ErrorCodes.TEMPLATE);
    expect(error!.message).toBe(
      'unfilled placeholder {{ t }} at job_title; unfilled placeholder {{ source_file }} at tasks[0].data.sources[0]; unfilled placeholder {{ t }} at tasks[0].data["odd key"]',
    );
  });

  it('treats null/undefined variables as unfilled and rejects malformed placeholders', () => {
    expect(() => renderTemplate({ a: '{{ x }}' }, { x: null })).toThrow('unfilled placeholder {{ x }} at a');
    expect(() => renderTemplate({ a: '{{ 1bad }}' }, {})).toThrow('malformed placeholder {{ 1bad }} at a');
    expect(() => renderTemplate({ a: '{{}}' }, {})).toThrow('malformed placeholder {{}} at a');
  });

  it('leaves strings without placeholders and empty variables alone', () => {
    expect(renderTemplate({ a: 'plain {single} }}', b: '' }, {})).toEqual({ a: 'plain {single} }}', b: '' });
    expect(renderTemplate({ a: 'x{{ e }}y' }, { e: '' })).toEqual({ a: 'xy' });
  });

  it('lists the variables a template needs', () => {
    expect(templateVariables({ a: '{{ x }} {{y}}', b: ['{{ x }}'] })).toEqual(['x', 'y']);
  });
});

describe('parseJob', () => {
  it('accepts job_name as an alias of job_title', () => {
    expect(parseJob({ job_name: 'N', tasks: [{ module: 'm', data: {} }] })).toEqual({ job_title: 'N', tasks: [{ module: 'm', data: {} }] });
  });

  it('lists every problem with its path', () => {
    expect(() => parseJob({ tasks: [{ module: '', data: [] }, { data: {} }], extra: 1 })).toThrow(
      'invalid job: job_title is required (job_name is accepted too); extra is not an allowed field; tasks[0].module must not be empty; tasks[0].data must be an object; tasks[1].module is required',
    );
    expect(() => parseJob({ job_title: 't', tasks: [] })).toThrow('tasks must have at least 1 item');
    expect(() => parseJob('nope')).toThrow('job must be an object');
  });
});

describe('schema checks in steady use', () => {
  it('a schema checked many times (then compiled) answers exactly as on its first checks', () => {
    const schema = Type.Object(
      { name: Type.String({ minLength: 1 }), count: Type.Optional(Type.Integer({ minimum: 0 })), mode: Type.Union([Type.Literal('a'), Type.Literal('b')]) },
      { additionalProperties: false },
    );
    const cases: Array<[unknown, string[]]> = [
      [{ name: 'x', mode: 'a' }, []],
      [{ name: '', mode: 'b', count: 2 }, ['name']],
      [{ name: 'x', mode: 'c' }, ['mode']],
      [{ name: 'x', mode: 'a', count: -1, extra: true }, ['count', 'extra']],
      ['not an object', ['']],
    ];
    const firstRound = cases.map(([value]) => schemaProblems(schema, value));
    for (let round = 0; round < 5; round++) {
      cases.forEach(([value, paths], i) => {
        const problems = schemaProblems(schema, value);
        expect(problems).toEqual(firstRound[i]);
        for (const path of paths) expect(problems.some((p) => p.path === path || (path === '' && p.path === '')), `${JSON.stringify(value)}: ${path}`).toBe(true);
        expect(problems.length === 0).toBe(paths.length === 0);
      });
    }
  });
});
