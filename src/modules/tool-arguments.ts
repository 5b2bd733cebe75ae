/**
 * A ReAct tool's `parameters` as a contract: the schema is checked once, when a runtime or a module takes the tool,
 * and each call's arguments against it before the tool runs. Ax passes the model's parsed arguments on unchecked
 * (a JSON string or list as well as an object), so without this a tool written to its schema would be called with
 * `{}` or `"oops"`. Arguments that break the schema go back to the model as Ax's function error, which Ax hands it
 * to correct; the tool does not run. (Arguments that are not JSON at all Ax refuses itself, ending the execution:
 * see `provider-errors.ts`.) Which JSON Schema dialects are read: `json-schema-compiler.ts`.
 * @module
 */
import { AxFunctionError } from '@ax-llm/ax';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { ValidationError } from '../errors.js';
import { compileJsonSchema } from './json-schema-compiler.js';
import type { ModuleTool } from './module-types.js';
import { messageOf } from '../printable.js';

/** What a tool with no `parameters` takes: an object of anything, as Tether has always told Ax. */
export const NO_PARAMETERS = { type: 'object', properties: {} } as const;

/** Each tool's compiled check, by tool object: a runtime's tools are compiled once for all its modules. */
const checks = new WeakMap<ModuleTool, ValidateFunction>();

/**
 * The compiled check of `tool`'s arguments, compiling it the first time.
 * @throws {ValidationError} when `tool.parameters` is not a JSON Schema (naming the tool and what is wrong)
 */
function checkOf(tool: ModuleTool): ValidateFunction {
  const known = checks.get(tool);
  if (known) return known;
  // Ax reads it as text when it builds each request: another value would fail every execution.
  if (typeof tool.description !== 'string') {
    throw new ValidationError(`tool '${tool.name}': description must be a string, got ${typeof tool.description}`, {
      details: { tool: tool.name, field: 'description' },
    });
  }
  let check: ValidateFunction;
  try {
    check = compileJsonSchema(tool.parameters ?? NO_PARAMETERS);
  } catch (cause) {
    const why = messageOf(cause);
    throw new ValidationError(`tool '${tool.name}': parameters is not a valid JSON Schema: ${why}`, {
      cause,
      details: { tool: tool.name, field: 'parameters' },
    });
  }
  const unsendable = unsendablePart(tool.parameters ?? NO_PARAMETERS, 'parameters');
  if (unsendable) {
    throw new ValidationError(`tool '${tool.name}': ${unsendable}`, {
      details: { tool: tool.name, field: 'parameters' },
    });
  }
  checks.set(tool, check);
  return check;
}

/**
 * What of a valid JSON Schema a function tool cannot be sent with, as Ax checks it at every request (providers
 * refuse the same): a schema that is no object (`true`), an array schema without `items`. `undefined` when none.
 */
function unsendablePart(schema: unknown, path: string): string | undefined {
  if (typeof schema !== 'object' || schema === null)
    return `${path} must be a schema object (function tools take no ${JSON.stringify(schema)} schema)`;
  const { type, items, properties } = schema as { type?: unknown; items?: unknown; properties?: unknown };
  if (type === 'array') {
    if (!items) return `${path} is an array schema without "items" (function tools need it)`;
    return unsendablePart(items, `${path}.items`);
  }
  if (type === 'object' && typeof properties === 'object' && properties !== null) {
    for (const [name, property] of Object.entries(properties)) {
      const problem = unsendablePart(property, `${path}.properties.${name}`);
      if (problem) return problem;
    }
  }
  return undefined;
}

/**
 * Checks `tool.parameters` and `tool.description` now, so a runtime or module given a broken tool is refused at once
 * rather than at every execution, or at the provider's first 400.
 * @throws {ValidationError} when `parameters` is not a JSON Schema, or one a function tool cannot be sent with (an
 * array without `items`, a boolean schema), or `description` is not a string
 */
export function assertToolParameters(tool: ModuleTool): void {
  checkOf(tool);
}

/** Where an error is in the arguments: `word`, `filters.since`, `tags[2]`, or `arguments` for the whole. */
function fieldOf(error: ErrorObject): string {
  const path = error.instancePath
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((at, part) => (/^\d+$/.test(part) ? `${at}[${part}]` : at === '' ? part : `${at}.${part}`), '');
  // A missing or unexpected property is reported at its parent; the model is better told the property's name.
  const params = error.params as { missingProperty?: string; additionalProperty?: string };
  const named =
    error.keyword === 'required'
      ? params.missingProperty
      : error.keyword === 'additionalProperties'
        ? params.additionalProperty
        : undefined;
  if (named) return path === '' ? named : `${path}.${named}`;
  return path === '' ? 'arguments' : path;
}

/** What the model is told where Ajv's words would name the parent rather than the property. */
const MESSAGES: Readonly<Record<string, string>> = {
  required: 'is required',
  additionalProperties: 'is not a parameter of this tool',
};

/**
 * Checks one call's arguments against `tool.parameters`.
 * @throws {AxFunctionError} listing each field that breaks the schema, which Ax hands back to the model
 */
export function checkToolArguments(tool: ModuleTool, args: unknown): void {
  const check = checkOf(tool);
  if (check(args)) return;
  const fields = (check.errors ?? []).map((error) => ({
    field: fieldOf(error),
    message: MESSAGES[error.keyword] ?? error.message ?? 'is not valid',
  }));
  throw new AxFunctionError(fields);
}
