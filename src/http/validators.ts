import { Ajv, type ErrorObject, type Options, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';
import { findTextProblem, MAX_INPUT_DEPTH, type JsonPath } from '../common/index.ts';

const common: Options = {
  allErrors: true,
  useDefaults: true,
  removeAdditional: false,
  strict: false,
};

function ajvWith(options: Options): Ajv {
  const ajv = new Ajv({ ...common, ...options });
  addFormats.default(ajv);
  return ajv;
}

/**
 * Bodies are validated strictly (a number where a string belongs is a 422, never quietly
 * converted); query strings, params and headers arrive as text, so they are coerced.
 * Bodies and query strings are first walked for text PostgreSQL cannot store (U+0000, an
 * unpaired surrogate) and for nesting past MAX_INPUT_DEPTH: one check for every route,
 * reported like any schema error (422 for a body, 400 for a query string).
 */
export function createValidatorCompiler(): FastifySchemaCompiler<unknown> {
  const strict = ajvWith({ coerceTypes: false });
  const coercing = ajvWith({ coerceTypes: 'array' });
  return ({ schema, httpPart }) => {
    const validate = (httpPart === 'body' ? strict : coercing).compile(schema as object);
    return httpPart === 'body' || httpPart === 'querystring' ? withTextCheck(validate) : validate;
  };
}

/** `validate`, after refusing unstorable text and excessive depth in the same error shape. */
function withTextCheck(validate: ValidateFunction): ValidateFunction {
  const checked = ((data: unknown) => {
    const problem = findTextProblem(data, MAX_INPUT_DEPTH);
    if (problem !== null) {
      const error: ErrorObject = {
        keyword: 'text',
        instancePath: pointer(problem.path),
        schemaPath: '#',
        params: {},
        message: problem.message,
      };
      checked.errors = [error];
      return false;
    }
    const valid = validate(data);
    checked.errors = validate.errors;
    return valid;
  }) as ValidateFunction;
  return checked;
}

/** A JSON pointer (`/fields/0/label`), as ajv reports where an error is. */
function pointer(path: JsonPath): string {
  return path.map((part) => `/${String(part).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}
