import { schemaProblems, type SchemaProblem } from '@sisyphus/core';
import { listProblems } from './problem-list.js';
import type { FastifySchemaCompiler } from 'fastify';
import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { Value } from 'typebox/value';

/** A request that failed its route's schema: every problem with its path (`body.failed`, `querystring.limit`). */
export class RequestSchemaError extends Error {
  readonly statusCode = 400;
  /** The first `MAX_PROBLEMS` problems. */
  readonly problems: SchemaProblem[];
  constructor(problems: SchemaProblem[]) {
    const listed = listProblems(problems);
    super(`invalid request: ${listed.text}`);
    this.problems = listed.problems;
  }
}

/**
 * The routes' validator, as the TypeBox type provider's
 * (`TypeBoxValidatorCompiler`: a compiled check; query strings and params
 * converted, `limit=50` -> 50; bodies never), with two differences:
 * - a query string or params object that passes as it is is not converted
 *   (most do: ids and flags are strings), which saves a schema walk on
 *   every report and heartbeat;
 * - failures are described as submissions are (core's `schemaProblems`:
 *   one problem per field, `required` named by the missing field), so
 *   every 400 of the API has the same `{message, problems}` shape.
 */
export const routeValidatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  const check = Compile(schema);
  const part = httpPart ?? 'body';
  const converts = part !== 'body';
  return (value) => {
    if (check.Check(value)) return { value };
    if (converts) {
      const converted = Value.Convert(schema, value);
      if (check.Check(converted)) return { value: converted };
    }
    const problems = schemaProblems(schema, value, part);
    return { error: new RequestSchemaError(problems.length ? problems : [{ path: part, message: 'is invalid' }]) };
  };
};
