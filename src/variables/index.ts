/**
 * Session variables: the ten types, their constraints and validation, names, glob patterns and the wire codec.
 * Pure functions, no I/O; everything that fails throws a `ValidationError` (`code: 'validation_failed'`).
 * @example
 * import { validateConstraints, validateValue } from './variables/index.js'
 * const constraints = validateConstraints('float', { min: 0, max: 2 }, 'temperature')
 * validateValue('float', 0.7, constraints, 'temperature') // 0.7
 * @module
 */
export { decodeValue, encodeValue } from './codec.js';
export { constraintKeys, validateConstraints } from './constraints.js';
export { DEFINE_OPTION_KEYS, validateDefineOptions } from './define-options.js';
export { compileGlob, type GlobMatcher } from './glob.js';
export { JSON_SHAPE_TYPES } from './json-shape.js';
export { MAX_JSON_DEPTH } from './json-value.js';
export {
  assertSessionId,
  assertVariableName,
  isSessionId,
  isVariableName,
  SESSION_ID_PATTERN,
  VARIABLE_NAME_PATTERN,
} from './names.js';
export { graphemeLength } from './string-value.js';
export {
  VARIABLE_TYPES,
  type ChoiceConstraints,
  type Constraints,
  type ConstraintsByType,
  type DefineVariableOptions,
  type DefineVariableOptionsFor,
  type EmbeddingConstraints,
  type JsonConstraints,
  type JsonShape,
  type JsonShapeType,
  type JsonValue,
  type ReadonlyJsonValue,
  type ListConstraints,
  type ModuleConstraints,
  type NumberConstraints,
  type StringConstraints,
  type TensorConstraints,
  type TensorValue,
  type ValueByType,
  type VariableRecord,
  type VariableType,
} from './types.js';
export { assertVariableType, isVariableType, validateValue } from './validate.js';
