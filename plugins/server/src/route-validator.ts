import { TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox';
import { formatProblems, schemaProblems, type SchemaProblem } from '@sisyphus/core';
import type { FastifySchemaCompiler } from 'fastify';
import type { TSchema } from 'typebox';

/** A request that failed its route's schema: every problem with its path (`body.failed`, `querystring.limit`). */
export class RequestSchemaError extends Error {
  readonly statusCode = 400;
  constructor(readonly problems: SchemaProblem[]) {
    super(`invalid request: ${formatProblems(problems)}`);
  }
}

/**
 * The routes' validator: the TypeBox type provider's (query strings and
 * params converted, `limit=50` -> 50; bodies never), with failures
 * described as submissions are (core's `schemaProblems`: one problem per
 * field, `required` named by the missing field), so every 400 of the API
 * has the same `{message, problems: [{path, message}]}` shape.
 */
export const routeValidatorCompiler: FastifySchemaCompiler<TSchema> = (route) => {
  const check = TypeBoxValidatorCompiler(route);
  const part = route.httpPart ?? 'body';
  return (value) => {
    const result = check(value) as { value?: unknown; error?: unknown };
    if (!result.error) return { value: result.value };
    const problems = schemaProblems(route.schema, value, part);
    return { error: new RequestSchemaError(problems.length ? problems : [{ path: part, message: 'is invalid' }]) };
  };
};
