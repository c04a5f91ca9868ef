import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { renderTemplate, templateVariables, type SchemaProblem } from '@sisyphus/core';
import { parseDocument, placeholderCounts } from '@sisyphus/core/cli';
import type { ServerContext } from '../server-context.js';
import { SubmissionError, prepareJob } from '../job-submission.js';
import { TemplateBody } from './route-schemas.js';
import { MAX_JSON_DEPTH, jsonDepthExceeds, parseJsonSecurely } from '../json-body-parser.js';

/**
 * The parsed template as plain JSON data, held to what `POST /queue` holds a
 * body to: at most `maxBytes` as JSON, nested at most {@link MAX_JSON_DEPTH}
 * deep, no `__proto__` or `constructor.prototype` keys. A problem's text
 * otherwise.
 */
function plainDocument(doc: unknown, maxBytes: number): { doc: unknown; text: string } | string {
  let text: string;
  try {
    text = JSON.stringify(doc);
  } catch {
    return `is nested deeper than ${MAX_JSON_DEPTH} levels`; // a RangeError: far deeper
  }
  if (text.length > maxBytes) return `is ${text.length} bytes as JSON, more than the server accepts (${maxBytes})`;
  if (jsonDepthExceeds(text, MAX_JSON_DEPTH)) return `is nested deeper than ${MAX_JSON_DEPTH} levels`;
  try {
    return { doc: parseJsonSecurely(text), text };
  } catch (error) {
    return (error as Error).message; // (the text is JSON.stringify's: only a forbidden key can be wrong)
  }
}

/** About how long the rendered document will be: the template's JSON plus each placeholder's value where it stands. */
function renderedLength(text: string, variables: Record<string, string>): number {
  let length = text.length;
  // JSON may escape each character of a value.
  for (const [name, count] of placeholderCounts(text)) length += (variables[name]?.length ?? 0) * 2 * count;
  return length;
}

/** A problem of a templated submission, with the placeholders whose values ended up at its path. */
export type TemplateProblem = SchemaProblem & { placeholders?: string[] };

/** The value at a problem path such as `tasks[0].data["a b"].x` in `doc`; undefined when there is none. */
export function valueAtPath(doc: unknown, path: string): unknown {
  const token = /\.?([A-Za-z_$][\w$-]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/y;
  let value = doc;
  let at = 0;
  while (at < path.length) {
    token.lastIndex = at;
    const m = token.exec(path);
    if (!m) return undefined;
    at = token.lastIndex;
    const key: string | number = m[1] ?? (m[2] !== undefined ? Number(m[2]) : (JSON.parse(m[3]!) as string));
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string | number, unknown>)[key];
  }
  return value;
}

/** `problems` with, for each whose value in the unrendered `template` is a string holding placeholders, their names. */
function withPlaceholders(template: unknown, problems: SchemaProblem[]): TemplateProblem[] {
  return problems.map((problem) => {
    const value = problem.path ? valueAtPath(template, problem.path) : undefined;
    const names = typeof value === 'string' ? templateVariables(value) : [];
    return names.length ? { ...problem, placeholders: names } : problem;
  });
}

/**
 * `POST /queue/template`: the dashboard's submit form. The job file's text
 * (JSON or YAML, parsed as `sisyphus submit` parses a file) with a value for
 * each `{{ placeholder }}`, rendered with the same rules as the CLI's
 * `--var`, then checked and queued as `POST /queue` does. `check: true`
 * only parses and lists the placeholders.
 */
export function registerTemplateRoutes(server: FastifyInstance, ctx: ServerContext): void {
  const app = server.withTypeProvider<TypeBoxTypeProvider>();

  app.post(
    '/queue/template',
    {
      // Not `changesQueue`: a check (the form asks on every edit) changes nothing; a submission invalidates the listing itself.
      config: { access: ['submitter'] },
      schema: {
        tags: ['queue'],
        summary:
          'Submit a job file with placeholders: {template (JSON or YAML text), variables: {name: value}, priority?, check?}. check: answers {placeholders, job} only. 400 names each problem path and, where a placeholder made the value, the placeholders',
        body: TemplateBody,
      },
    },
    async (request, reply) => {
      const { template, variables = {}, priority, check } = request.body;
      const bad = (problems: TemplateProblem[], placeholders?: string[]) =>
        reply.code(400).send({
          message: `invalid job: ${problems.map((p) => (p.path ? `${p.path} ${p.message}` : p.message)).join('; ')}`,
          problems,
          ...(placeholders ? { placeholders } : {}),
        });
      let parsed: unknown;
      try {
        // No YAML aliases: 900 KB of them made an 88 MB document.
        parsed = await parseDocument(template.replace(/^\uFEFF/, ''), 'template', '', { aliases: false });
      } catch (error) {
        // The parser's whole message (YAML's shows the line and a caret), not only its first line.
        const cause = (error as { cause?: unknown }).cause;
        const message = (error as Error).message.replace(/^template: /, '');
        const first = cause instanceof Error ? cause.message.split('\n')[0]! : '';
        return bad([{ path: 'template', message: first && message.endsWith(first) ? `${message.slice(0, -first.length)}${(cause as Error).message.trimEnd()}` : message }]);
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        return bad([{ path: 'template', message: 'must hold a job: an object with job_title and tasks' }]);
      }
      const plain = plainDocument(parsed, ctx.options.bodyLimit);
      if (typeof plain === 'string') return bad([{ path: 'template', message: plain }]);
      const doc = plain.doc;
      const placeholders = templateVariables(doc);
      // The placeholders only: the form has the text already (and a big document is not sent back).
      if (check) return { placeholders };
      // An empty field of the form is a value not given, not an empty text.
      const missing = placeholders.filter((name) => !variables[name]);
      if (missing.length) {
        return bad(missing.map((name) => ({ path: `variables.${name}`, message: `needs a value for {{ ${name} }}`, placeholders: [name] })), placeholders);
      }
      const length = renderedLength(plain.text, variables);
      if (length > ctx.options.bodyLimit) {
        return bad([{ path: 'variables', message: `the job would be about ${length} bytes with these values, more than the server accepts (${ctx.options.bodyLimit})` }], placeholders);
      }
      let job;
      try {
        const rendered = renderTemplate(doc as Record<string, unknown>, variables);
        if (priority !== undefined) rendered.priority = priority;
        job = await prepareJob(rendered, { registry: ctx.registry, store: ctx.store, acceptUnknown: ctx.options.acceptUnknownModules, now: new Date(ctx.now()) });
      } catch (error) {
        if (error instanceof SubmissionError) return bad(withPlaceholders(doc, error.problems), placeholders);
        const problems = (error as { details?: { problems?: unknown } }).details?.problems;
        if (Array.isArray(problems)) return bad(problems.map((message) => ({ path: '', message: String(message) })), placeholders);
        throw error;
      }
      await ctx.store.submit(job); // SIS_JOB_EXISTS -> 409
      ctx.listing.invalidate();
      ctx.waiters.wake();
      return { job_id: job.job_id };
    },
  );
}
