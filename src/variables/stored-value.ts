/**
 * `checkStoredValue`: the value of a record read back from a store, held to what a write of it must pass. Only nodes
 * write the store, so this is the check of something else having written there (a raw client, `nats kv put`): a value
 * its own variable refuses must not reach a module, nor an export that a later import refuses. A limit only new writes
 * are held to, which an earlier version wrote without (a string pattern the matcher cannot run, its test budget), is
 * not applied: what a node of that version wrote stays readable.
 *
 * Every read of a watched change comes through here, so what `JSON.parse` has just made is not copied again as a
 * write's value is: a `json` or `list` value is frozen in place and checked where it lies.
 * @module
 */
import { fail, show } from './failure.js';
import { checkJsonShape } from './json-shape.js';
import { freezeParsedJson, MAX_JSON_DEPTH } from './json-value.js';
import { checkStoredString } from './string-value.js';
import { checkListConstraints } from './structured-values.js';
import type {
  Constraints,
  JsonConstraints,
  JsonValue,
  ListConstraints,
  StringConstraints,
  VariableType,
} from './types.js';
import { validateValue } from './validate.js';

/**
 * The stored `value` (already through the variable codec's `decodeValue`) of a variable of `type` under its checked
 * `constraints`, as the session keeps it: a scalar normalised as a write normalises it, a vector copied out frozen by
 * its validator, a `json` or `list` value frozen in place. `value` must be what `JSON.parse` returned, held by nobody
 * else. Throws a `ValidationError` naming `variable` with a write's message.
 * @example
 * checkStoredValue('float', 1.8, { max: 1 }, 'temp') // throws "temp: value 1.8 is above maximum 1"
 */
export function checkStoredValue(
  type: VariableType,
  value: unknown,
  constraints: Constraints,
  variable: string,
): unknown {
  switch (type) {
    case 'json': {
      const json = frozenJson(value, variable);
      const { shape } = constraints as JsonConstraints;
      if (shape !== undefined) checkJsonShape(json, shape, variable);
      return json;
    }
    case 'list': {
      if (!Array.isArray(value)) return fail(variable, `must be a list, got ${show(value)}`, { constraint: 'type' });
      const list = frozenJson(value, variable) as readonly JsonValue[];
      checkListConstraints(list, constraints as ListConstraints, variable);
      return list;
    }
    case 'string':
      // Without the pattern limits only new writes are held to: see checkStoredString.
      return checkStoredString(value, constraints as StringConstraints, variable);
    default:
      return validateValue(type, value, constraints, variable);
  }
}

/**
 * `value`, parsed JSON, frozen in place: no deeper than a write takes one (a container `MAX_JSON_DEPTH` levels below
 * the top is refused, as `freezeJson` refuses it), and present (a record without one is no variable's).
 */
function frozenJson(value: unknown, variable: string): JsonValue {
  if (value === undefined) return fail(variable, 'must be a JSON value, got undefined', { constraint: 'type' });
  const tooDeep = (): never =>
    fail(variable, `must be a JSON value nested at most ${MAX_JSON_DEPTH} levels`, { constraint: 'type' });
  return freezeParsedJson(value, tooDeep, MAX_JSON_DEPTH - 1) as JsonValue;
}
