/**
 * A ReAct tool's `parameters` as a contract: the schema is checked once, when a runtime or a module takes the tool,
 * and each call's arguments against it before the tool runs. Ax passes a model's arguments on unchecked (even a
 * string that is not JSON), so without this a tool written to its schema would be called with `{}` or `"oops"`.
 * Arguments that break the schema go back to the model as Ax's function error, which Ax hands it to correct;
 * the tool does not run.
 * @module
 */
import { AxFunctionError } from '@ax-llm/ax';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { ValidationError } from '../errors.js';
import type { ModuleTool } from './module-types.js';

/** What a tool with no `parameters` takes: an object of anything, as Tether has always told Ax. */
export const NO_PARAMETERS = { type: 'object', properties: {} } as const;

// One validator for all tools. strict: false, because tool schemas carry annotations the provider reads
// (`description`, `examples`, `title`) that strict mode would refuse; the schema itself is still checked against
// the JSON Schema meta-schema, so `type: 'strng'` is refused.
const ajv = new Ajv({ allErrors: true, strict: false });

/** Each tool's compiled check, by tool object: a runtime's tools are compiled once for all its modules. */
const checks = new WeakMap<ModuleTool, ValidateFunction>();

/**
 * The compiled check of `tool`'s arguments, compiling it the first time.
 * @throws {ValidationError} when `tool.parameters` is not a JSON Schema (naming the tool and what is wrong)
 */
function checkOf(tool: ModuleTool): ValidateFunction {
  const known = checks.get(tool);
  if (known) return known;
  const schema = tool.parameters ?? NO_PARAMETERS;
  let check: ValidateFunction;
  try {
    check = ajv.compile(schema);
  } catch (cause) {
    const why = cause instanceof Error ? cause.message : String(cause);
    throw new ValidationError(`tool '${tool.name}': parameters is not a valid JSON Schema: ${why}`, {
      cause,
      details: { tool: tool.name, field: 'parameters' },
    });
  } finally {
    // Ajv keeps every compiled schema by its object; the check needs none of that, and tools come and go.
    ajv.removeSchema(schema);
  }
  checks.set(tool, check);
  return check;
}

/**
 * Checks `tool.parameters` now, so a runtime or module given a broken schema is refused at once rather than at the
 * provider's first 400.
 * @throws {ValidationError} when it is not a JSON Schema
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
  // A missing property is reported at its parent; the model is better told the property's own name.
  const missing = error.keyword === 'required' ? (error.params as { missingProperty?: string }).missingProperty : '';
  if (missing) return path === '' ? missing : `${path}.${missing}`;
  return path === '' ? 'arguments' : path;
}

/**
 * Checks one call's arguments against `tool.parameters`.
 * @throws {AxFunctionError} listing each field that breaks the schema, which Ax hands back to the model
 */
export function checkToolArguments(tool: ModuleTool, args: unknown): void {
  const check = checkOf(tool);
  if (check(args)) return;
  const fields = (check.errors ?? []).map((error) => ({
    field: fieldOf(error),
    message: error.keyword === 'required' ? 'is required' : (error.message ?? 'is not valid'),
  }));
  throw new AxFunctionError(fields);
}
