/**
 * `validateConstraints`: the definition-time check of a variable's constraints. Every key is known for its
 * type, every value well-formed, every pair of bounds ordered; DSPex dropped a misspelled key silently, which
 * left the variable unconstrained without anyone noticing.
 * @module
 */
import {
  count,
  distinctStrings,
  finiteNumber,
  itemType,
  jsonShape,
  moduleNames,
  positiveInteger,
  regexSource,
  storedRegexSource,
  tensorShape,
  type Bad,
  type ConstraintRule,
} from './constraint-rules.js';
import { fail, show } from './failure.js';
import { isPlainObject } from './json-value.js';
import type { Constraints, VariableType } from './types.js';
import { assertVariableType } from './validate.js';

/** What one type accepts: its keys in checking order, which of them are required, and which pairs are bounds. */
interface TypeRules {
  readonly keys: Readonly<Record<string, ConstraintRule>>;
  readonly required?: readonly string[];
  readonly bounds?: readonly (readonly [low: string, high: string])[];
}

const NUMBER_RULES: TypeRules = { keys: { min: finiteNumber, max: finiteNumber }, bounds: [['min', 'max']] };

/** The constraints each type accepts, mirroring `ConstraintsByType` in types.ts. */
const RULES: Readonly<Record<VariableType, TypeRules>> = {
  float: NUMBER_RULES,
  integer: NUMBER_RULES,
  string: {
    keys: { minLength: count, maxLength: count, pattern: regexSource, enum: distinctStrings },
    bounds: [['minLength', 'maxLength']],
  },
  boolean: { keys: {} },
  choice: { keys: { choices: distinctStrings }, required: ['choices'] },
  module: { keys: { allowedModules: moduleNames } },
  embedding: { keys: { dimensions: positiveInteger } },
  tensor: { keys: { shape: tensorShape } },
  json: { keys: { shape: jsonShape } },
  list: { keys: { minItems: count, maxItems: count, itemType }, bounds: [['minItems', 'maxItems']] },
};

/**
 * What a record read back from a store is held to: {@link RULES} but for what only new definitions are refused for
 * (a `pattern` the linear-time matcher cannot run), so that a variable an earlier version defined stays readable.
 */
const STORED_RULES: Readonly<Record<VariableType, TypeRules>> = {
  ...RULES,
  string: { ...RULES.string, keys: { ...RULES.string.keys, pattern: storedRegexSource } },
};

/** The constraint keys a type accepts, in the order values are checked against them. */
export function constraintKeys(type: VariableType): readonly string[] {
  return Object.keys(RULES[type].keys);
}

const NO_CONSTRAINTS: Constraints = Object.freeze({});

/**
 * Checks constraints for a variable of `type` and returns their normalised, frozen copy (the form stored on
 * the record and trusted by `validateValue`). Keys whose value is `undefined` are dropped, so an options
 * object built by spreading optional fields works. Throws a `ValidationError` for an unknown type, an unknown
 * key (naming the accepted ones), a malformed value, `min` above `max`, an invalid `pattern`, or a `choice`
 * without `choices`.
 * @example
 * validateConstraints('float', { min: 0, max: 2 }, 'temperature') // { min: 0, max: 2 }
 * validateConstraints('string', { maxLen: 3 }, 'name')
 * // throws "name: unknown constraint 'maxLen' for type string; accepted: minLength, maxLength, pattern, enum"
 */
export function validateConstraints(type: unknown, constraints: unknown, variableName?: string): Constraints {
  return checkConstraints(RULES, type, constraints, variableName);
}

/**
 * {@link validateConstraints} for the constraints of a record read back from a store, which an earlier version may
 * have defined: a `pattern` is taken as any string, whether or not this version's matcher can compile it (a value is
 * then not tested against it as it is read, and every write of one is refused naming why). Everything else is checked
 * as a definition checks it.
 * @example
 * validateStoredConstraints('string', { pattern: '^(?=a)' }, 'code') // { pattern: '^(?=a)' }
 */
export function validateStoredConstraints(type: unknown, constraints: unknown, variableName: string): Constraints {
  return checkConstraints(STORED_RULES, type, constraints, variableName);
}

function checkConstraints(
  table: Readonly<Record<VariableType, TypeRules>>,
  type: unknown,
  constraints: unknown,
  variableName: string | undefined,
): Constraints {
  assertVariableType(type, variableName);
  if (constraints === undefined || constraints === null) constraints = {};
  if (!isPlainObject(constraints)) {
    return fail(variableName, `constraints must be an object, got ${show(constraints)}`, { constraint: 'constraints' });
  }
  const rules = table[type];
  const accepted = Object.keys(rules.keys);
  for (const key of Object.keys(constraints)) {
    if (!Object.hasOwn(rules.keys, key)) {
      fail(
        variableName,
        `unknown constraint '${key}' for type ${type}; accepted: ${accepted.length > 0 ? accepted.join(', ') : 'none'}`,
        { constraint: key, accepted },
      );
    }
  }

  const normalized: Record<string, unknown> = {};
  for (const key of accepted) {
    const raw = constraints[key];
    const rule = rules.keys[key];
    if (raw === undefined || rule === undefined) continue;
    const bad: Bad = (phrase, cause) => fail(variableName, `constraint ${key} ${phrase}`, { constraint: key }, cause);
    normalized[key] = rule(raw, bad, variableName);
  }
  for (const key of rules.required ?? []) {
    if (normalized[key] === undefined) {
      fail(variableName, `constraint ${key} is required for type ${type}`, { constraint: key });
    }
  }
  for (const [low, high] of rules.bounds ?? []) {
    const min = normalized[low];
    const max = normalized[high];
    if (typeof min === 'number' && typeof max === 'number' && min > max) {
      fail(variableName, `constraint ${low} ${min} is greater than ${high} ${max}`, { constraint: low });
    }
  }
  // Most variables have no constraints: they all share one frozen empty object.
  return Object.keys(normalized).length === 0 ? NO_CONSTRAINTS : Object.freeze(normalized);
}
