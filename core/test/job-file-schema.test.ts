import { describe, expect, it } from 'vitest';
import { Ajv, type ErrorObject } from 'ajv';
import { Type, parseJob } from '@sisyphus/core';
import { checkConfig } from '@sisyphus/core/config';
import { buildJobFileSchema } from '../src/job/job-file-schema.js';
import { buildConfigFileSchema } from '../src/plugin/config-file-schema.js';
import { formatFieldTable, schemaFields, wrapText } from '../src/cli/commands/schema-field-table.js';

// Ajv in its strictest mode: unknown keywords, unknown formats, type/keyword mismatches and
// `required` naming undeclared properties are errors.
const ajv = () => new Ajv({ strict: true, strictRequired: true, allErrors: true });

const encode = {
  name: 'encode',
  description: 'An encoder',
  schema: Type.Object(
    {
      input: Type.String({ minLength: 1, pattern: '^/' }),
      crf: Type.Integer({ minimum: 0, maximum: 51 }),
      preset: Type.Optional(Type.Union([Type.Literal('fast'), Type.Literal('slow')])),
      overwrite: Type.Optional(Type.Boolean({ default: false })),
    },
    { additionalProperties: false },
  ),
};
// Two modules with the same $id and $defs names, and refs by $id (Type.Cyclic) and by pointer.
const tree = (name: string, leaf: ReturnType<typeof Type.String> | ReturnType<typeof Type.Number>) => ({
  name,
  schema: {
    ...Type.Cyclic({ Node: Type.Object({ value: leaf, kids: Type.Optional(Type.Array(Type.Ref('Node'))) }, { additionalProperties: false }) }, 'Node'),
  },
});
const pointerRefs = {
  name: 'pointers',
  schema: {
    $id: 'Data',
    type: 'object',
    properties: { a: { $ref: '#/$defs/Item' }, b: { $ref: '#/$defs/Item' } },
    additionalProperties: false,
    $defs: { Item: { type: 'string', enum: ['x', 'y'] } },
  },
};

function errorsOf(validate: { (v: unknown): boolean; errors?: ErrorObject[] | null }, value: unknown): ErrorObject[] {
  return validate(value) ? [] : validate.errors ?? [];
}

describe('buildJobFileSchema', () => {
  const schema = buildJobFileSchema([encode, tree('tree-a', Type.String()), tree('tree-b', Type.Number()), pointerRefs] as never);
  const validate = ajv().compile(schema as object);
  const job = (module: string, data: unknown, extra: Record<string, unknown> = {}) => ({ job_title: 't', ...extra, tasks: [{ module, data }] });

  it('is draft-07, plain JSON, and compiles under strict Ajv', () => {
    expect((schema as Record<string, unknown>).$schema).toBe('http://json-schema.org/draft-07/schema#');
    expect(JSON.stringify(schema)).not.toMatch(/"~kind"|"\$id"|"\$defs"/);
    expect(JSON.parse(JSON.stringify(schema))).toEqual(schema);
  });

  it('checks each task against the data schema of the module it names', () => {
    expect(errorsOf(validate, job('encode', { input: '/a.mkv', crf: 20, preset: 'fast' }))).toEqual([]);
    const misspelled = errorsOf(validate, job('encode', { input: '/a.mkv', crf: 20, prset: 'fast' }));
    expect(misspelled).toContainEqual(expect.objectContaining({ instancePath: '/tasks/0/data', keyword: 'additionalProperties', params: { additionalProperty: 'prset' } }));
    const wrongType = errorsOf(validate, job('encode', { input: '/a.mkv', crf: 'high' }));
    expect(wrongType).toContainEqual(expect.objectContaining({ instancePath: '/tasks/0/data/crf', keyword: 'type', params: { type: 'integer' } }));
    const missing = errorsOf(validate, job('encode', { input: '/a.mkv' }));
    expect(missing).toContainEqual(expect.objectContaining({ instancePath: '/tasks/0/data', keyword: 'required', params: { missingProperty: 'crf' } }));
  });

  it('refuses modules it does not know, unless allowUnknownModules', () => {
    const errors = errorsOf(validate, job('encdoe', {}));
    expect(errors).toContainEqual(expect.objectContaining({ instancePath: '/tasks/0/module', keyword: 'enum' }));
    const loose = ajv().compile(buildJobFileSchema([encode] as never, { allowUnknownModules: true }) as object);
    expect(errorsOf(loose, job('encdoe', { anything: 1 }))).toEqual([]);
    expect(errorsOf(loose, job('encode', { input: '/a', crf: 'x' }))).not.toEqual([]);
  });

  it('accepts placeholders as written in a template, and only there', () => {
    // A whole-string placeholder stands for any value; text with placeholders for a string.
    expect(errorsOf(validate, job('encode', { input: '{{ dir }}/a.mkv', crf: '{{ crf }}', preset: '{{ preset }}', overwrite: '{{ ow }}' }))).toEqual([]);
    expect(errorsOf(validate, job('encode', '{{ data }}'))).toEqual([]);
    expect(errorsOf(validate, { job_title: '{{ t }}', priority: '{{ p }}', tasks: '{{ tasks }}' })).toEqual([]);
    expect(errorsOf(validate, { job_title: 't', tasks: ['{{ task }}'] })).toEqual([]);
    // The module may be a placeholder: its data cannot be checked then.
    expect(errorsOf(validate, job('{{ module }}', { whatever: 1 }))).toEqual([]);
    // Text around a placeholder renders to a string: not an integer.
    expect(errorsOf(validate, job('encode', { input: '/a', crf: 'crf {{ n }}' }))).toContainEqual(expect.objectContaining({ instancePath: '/tasks/0/data/crf' }));
    // Keys are never templated: a misspelled key stays an error.
    expect(errorsOf(validate, job('encode', { input: '/a', crf: '{{ n }}', '{{ key }}': 1 }))).toContainEqual(
      expect.objectContaining({ keyword: 'additionalProperties', params: { additionalProperty: '{{ key }}' } }),
    );
  });

  it('keeps the envelope rules: a title, at least one task, no unknown keys, a good job_id; $schema allowed', () => {
    expect(errorsOf(validate, { $schema: './job.schema.json', job_name: 'n', job_id: 'abc-1', tasks: [{ module: 'encode', data: { input: '/a', crf: 1 } }] })).toEqual([]);
    expect(errorsOf(validate, { tasks: [{ module: 'encode', data: { input: '/a', crf: 1 } }] })).not.toEqual([]);
    expect(errorsOf(validate, { job_title: 't', tasks: [] })).toContainEqual(expect.objectContaining({ instancePath: '/tasks', keyword: 'minItems' }));
    expect(errorsOf(validate, { job_title: 't', titel: 'x', tasks: [{ module: 'encode', data: { input: '/a', crf: 1 } }] })).toContainEqual(
      expect.objectContaining({ instancePath: '', keyword: 'additionalProperties', params: { additionalProperty: 'titel' } }),
    );
    expect(errorsOf(validate, { job_title: 't', job_id: '../x', tasks: [{ module: 'encode', data: { input: '/a', crf: 1 } }] })).toContainEqual(
      expect.objectContaining({ instancePath: '/job_id' }),
    );
  });

  it('gives each module its own definitions, so equal $id/$defs names do not clash', () => {
    const defs = Object.keys((schema as { definitions: object }).definitions);
    expect(defs).toEqual(expect.arrayContaining(['module:tree-a', 'module:tree-a.Node', 'module:tree-b.Node', 'module:pointers.$defs.Item']));
    expect(errorsOf(validate, job('tree-a', { value: 'x', kids: [{ value: 'y', kids: [] }] }))).toEqual([]);
    expect(errorsOf(validate, job('tree-b', { value: 1, kids: [{ value: 2 }] }))).toEqual([]);
    expect(errorsOf(validate, job('tree-b', { value: 1, kids: [{ value: 'y' }] }))).toContainEqual(expect.objectContaining({ instancePath: '/tasks/0/data/kids/0/value' }));
    expect(errorsOf(validate, job('pointers', { a: 'x', b: 'y' }))).toEqual([]);
    expect(errorsOf(validate, job('pointers', { a: 'z' }))).toContainEqual(expect.objectContaining({ instancePath: '/tasks/0/data/a' }));
  });

  it('leaves out TypeBox-only types: a field that cannot be JSON never validates', () => {
    const odd = { name: 'odd', schema: Type.Object({ a: Type.Optional(Type.Undefined()), b: Type.Optional(Type.String()) }, { additionalProperties: false }) };
    const v = ajv().compile(buildJobFileSchema([odd] as never) as object);
    expect(errorsOf(v, job('odd', { b: 'x' }))).toEqual([]);
    expect(errorsOf(v, job('odd', { a: 'x' }))).not.toEqual([]);
  });
});

describe('$schema in job files and configs', () => {
  it('parseJob accepts and drops it; checkConfig accepts it', () => {
    const parsed = parseJob({ $schema: './job.schema.json', job_title: 't', tasks: [{ module: 'cleanup', data: {} }] });
    expect(parsed).toEqual({ job_title: 't', tasks: [{ module: 'cleanup', data: {} }] });
    expect(checkConfig({ $schema: './config.schema.json', workdir: '.' }, 'x.yaml')).toEqual({ $schema: './config.schema.json', workdir: '.' });
  });
});

describe('buildConfigFileSchema', () => {
  const withSettings = { name: 'encode', settingsSchema: Type.Object({ binary: Type.Optional(Type.String({ minLength: 1 })) }, { additionalProperties: false }) };
  const validate = ajv().compile(buildConfigFileSchema([withSettings, { name: 'plain' }]) as object);

  it("checks settings.<module> against the module's settings schema; other names take any object", () => {
    expect(errorsOf(validate, { $schema: 'x', settings: { encode: { binary: '/usr/bin/x' }, plain: { any: 1 }, other: { x: 1 } } })).toEqual([]);
    expect(errorsOf(validate, { settings: { encode: { binry: 'x' } } })).toContainEqual(
      expect.objectContaining({ instancePath: '/settings/encode', keyword: 'additionalProperties', params: { additionalProperty: 'binry' } }),
    );
    expect(errorsOf(validate, { settings: { other: 'x' } })).toContainEqual(expect.objectContaining({ instancePath: '/settings/other', keyword: 'type' }));
  });

  it('keeps the config rules: unknown keys and bad values are errors', () => {
    expect(errorsOf(validate, { server: { port: 70000 } })).toContainEqual(expect.objectContaining({ instancePath: '/server/port', keyword: 'maximum' }));
    expect(errorsOf(validate, { workers: {} })).toContainEqual(expect.objectContaining({ keyword: 'additionalProperties', params: { additionalProperty: 'workers' } }));
  });
});

describe('the field table of `sisyphus modules NAME`', () => {
  const nested = Type.Object({
    sources: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
    maps: Type.Optional(
      Type.Array(
        Type.Object({
          stream: Type.Integer({ minimum: 0, description: 'Stream index' }),
          kind: Type.Optional(Type.Union([Type.Literal('v'), Type.Literal('a')])),
          options: Type.Optional(Type.Record(Type.String(), Type.Union([Type.String(), Type.Number()]))),
        }),
      ),
    ),
    overwrite: Type.Optional(Type.Boolean({ default: false, description: 'Replace an existing output file. '.repeat(6) })),
  });

  it('names nested fields by path, with type, required and default', () => {
    const rows = schemaFields(nested);
    expect(rows.map((r) => [r.name, r.type, r.required, r.default])).toEqual([
      ['sources', 'string[]', 'yes', ''],
      ['maps', 'object[]', 'no', ''],
      ['maps[].stream', 'integer >= 0', 'yes', ''],
      ['maps[].kind', '"v"|"a"', 'no', ''],
      ['maps[].options', 'object', 'no', ''],
      ['maps[].options.<key>', 'string|number', '', ''],
      ['overwrite', 'boolean', 'no', 'false'],
    ]);
  });

  it('follows references once: a recursive schema gives a finite table', () => {
    const rows = schemaFields(tree('t', Type.String()).schema);
    expect(rows.map((r) => [r.name, r.type])).toEqual([
      ['value', 'string'],
      // The root is Node: its kids are named by the reference, not expanded again.
      ['kids', 'Node[]'],
    ]);
  });

  it('fits the table to the width, wrapping descriptions', () => {
    const text = formatFieldTable(schemaFields(nested), 80);
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^FIELD\s+TYPE\s+REQUIRED\s+DEFAULT\s+DESCRIPTION$/);
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(80);
    expect(lines.filter((l) => /Replace an existing/.test(l)).length).toBeGreaterThan(1);
    expect(wrapText('a|b|c', 2, '|')).toEqual(['a|', 'b|', 'c']);
  });
});
