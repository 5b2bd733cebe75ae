/**
 * `validateValue`: the one entry every write goes through. It dispatches on the variable type, checks the
 * value and its constraints in DESIGN's order, and returns the normalised, frozen value the session stores.
 * @module
 */
import { BridgeError } from '../errors.js';
import { messageOf } from '../printable.js';
import { UnreadablePartError, fail } from './failure.js';
import { validateFloat, validateInteger } from './number-values.js';
import { validateBoolean, validateChoice, validateModule } from './scalar-values.js';
import { validateString } from './string-value.js';
import { validateJson, validateList } from './structured-values.js';
import {
  VARIABLE_TYPES,
  type Constraints,
  type ConstraintsByType,
  type ValueByType,
  type VariableType,
} from './types.js';
import { validateEmbedding, validateTensor } from './vector-values.js';

/** True when `type` names one of the ten {@link VARIABLE_TYPES}. */
export function isVariableType(type: unknown): type is VariableType {
  return typeof type === 'string' && (VARIABLE_TYPES as readonly string[]).includes(type);
}

/**
 * Throws a `ValidationError` unless `type` is one of the ten variable types; the message lists them, since
 * the usual cause is a typo (`'int'`) or another system's name (`'str'`).
 */
export function assertVariableType(type: unknown, variable?: string): asserts type is VariableType {
  if (!isVariableType(type)) unknownType(type, variable);
}

function unknownType(type: unknown, variable: string | undefined): never {
  const shown = typeof type === 'string' ? `'${type.length > 40 ? `${type.slice(0, 39)}…` : type}'` : typeof type;
  const accepted = VARIABLE_TYPES.join(', ');
  return fail(variable, `unknown variable type ${shown}; accepted: ${accepted}`, { constraint: 'type' });
}

/**
 * Validates a value for a variable of `type` under `constraints` (as returned by `validateConstraints`: they are
 * trusted, not re-checked, on this hot path) and returns the normalised value: deep-copied and deep-frozen, so
 * neither the caller who passed it nor anyone it is handed to later can change stored state.
 * Throws a `ValidationError` naming `variableName` on the first failed check, with DSPex's wording.
 *
 * Normalisations: float strings `"NaN"`, `"Infinity"`, `"-Infinity"` to numbers; integer `42.0` to `42`;
 * boolean `"true"`/`"false"`/`1`/`0` to booleans; embedding typed arrays to arrays; tensor nested `data`
 * flattened row-major; `-0` to `0`.
 * @example
 * validateValue('float', 1.5, { min: 0, max: 1 }, 'temperature')
 * // throws ValidationError "temperature: value 1.5 is above maximum 1"
 * validateValue('integer', 42.0, {}, 'maxTokens') // 42
 */
export function validateValue<T extends VariableType>(
  type: T,
  value: unknown,
  constraints: Constraints | ConstraintsByType[T],
  variableName: string,
): ValueByType[T];
export function validateValue(
  type: VariableType,
  value: unknown,
  constraints: Constraints | ConstraintsByType[VariableType],
  variableName: string,
): ValueByType[VariableType] {
  try {
    return validateByType(type, value, constraints, variableName);
  } catch (error) {
    // A getter or proxy of the caller's threw while the value was read: the value's fault, told as a refusal of it.
    // Only an object can hold either; what a primitive's validation throws is Tether's own.
    const own = error instanceof BridgeError && !(error instanceof UnreadablePartError);
    if (own || typeof value !== 'object' || value === null) throw error;
    return fail(variableName, `could not be read: ${messageOf(error)}`, { constraint: 'unreadable' }, error);
  }
}

function validateByType(
  type: VariableType,
  value: unknown,
  constraints: Constraints | ConstraintsByType[VariableType],
  variableName: string,
): ValueByType[VariableType] {
  const c = constraints;
  switch (type) {
    case 'float':
      return validateFloat(value, c as ConstraintsByType['float'], variableName);
    case 'integer':
      return validateInteger(value, c as ConstraintsByType['integer'], variableName);
    case 'string':
      return validateString(value, c as ConstraintsByType['string'], variableName);
    case 'boolean':
      return validateBoolean(value, variableName);
    case 'choice':
      return validateChoice(value, c as Partial<ConstraintsByType['choice']>, variableName);
    case 'module':
      return validateModule(value, c as ConstraintsByType['module'], variableName);
    case 'embedding':
      return validateEmbedding(value, c as ConstraintsByType['embedding'], variableName);
    case 'tensor':
      return validateTensor(value, c as ConstraintsByType['tensor'], variableName);
    case 'json':
      return validateJson(value, c as ConstraintsByType['json'], variableName);
    case 'list':
      return validateList(value, c as ConstraintsByType['list'], variableName);
    default:
      // Reached only when an untyped caller (a NATS payload, an import) passes a type name TS never saw.
      return unknownType(type, variableName);
  }
}
