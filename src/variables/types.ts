/**
 * The shape of session variables: their ten types, the constraints each type takes, and the Variable record.
 * @module
 */

/** The ten variable types: DSPex's eight plus `json` and `list`. */
export const VARIABLE_TYPES = [
  'float',
  'integer',
  'string',
  'boolean',
  'choice',
  'module',
  'embedding',
  'tensor',
  'json',
  'list',
] as const;

/** One of {@link VARIABLE_TYPES}. */
export type VariableType = (typeof VARIABLE_TYPES)[number];

/** Any value JSON can carry. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/**
 * A JSON value read-only throughout: what a session hands out (a record's metadata, an exported value) is deep-frozen,
 * so a change to it fails to compile rather than throw `TypeError`. Any {@link JsonValue} is one.
 */
export type ReadonlyJsonValue =
  null | boolean | number | string | readonly ReadonlyJsonValue[] | { readonly [key: string]: ReadonlyJsonValue };

/** A tensor value: `shape` dimensions and `data` flattened in row-major order. */
export interface TensorValue {
  readonly shape: readonly number[];
  readonly data: readonly number[];
}

/**
 * A JSON-Schema-lite shape for `json` variables: the subset users reach for, checked without a library.
 * `type` accepts one name or a list; `integer` means a whole number.
 */
export interface JsonShape {
  readonly type?: JsonShapeType | readonly JsonShapeType[];
  readonly properties?: Readonly<Record<string, JsonShape>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean;
  readonly items?: JsonShape;
  readonly enum?: readonly JsonValue[];
  readonly minItems?: number;
  readonly maxItems?: number;
}

/** The type names a {@link JsonShape} understands. */
export type JsonShapeType = 'null' | 'boolean' | 'number' | 'integer' | 'string' | 'array' | 'object';

/** Constraints of `float` and `integer`: inclusive bounds. */
export interface NumberConstraints {
  readonly min?: number;
  readonly max?: number;
}

/** Constraints of `string`; lengths count user-perceived characters (grapheme clusters). */
export interface StringConstraints {
  readonly minLength?: number;
  readonly maxLength?: number;
  /**
   * A JS RegExp source without flags, tested unanchored like DSPex's `Regex.match?` (anchor it yourself with
   * `^...$`); a value passes exactly when `new RegExp(pattern).test(value)` would. It runs on a linear-time
   * engine (RE2JS), so no value can make it backtrack for ever. Refused at definition, with the reason: an invalid
   * source; backreferences (`\1`, `\k<name>`) and octal escapes; lookahead and lookbehind; group modifiers
   * (`(?i:`); repeat counts over 1000 (nested counts multiplied) or adding up to over 2048; a source over 4096
   * characters or one that compiles to over 2048 instructions. A write's pattern checks together may cost at most
   * 2^19 (value length in UTF-16 code units times the pattern's instruction count, summed over its values): a
   * single value of at least 256 code units for any pattern, about 87,000 for `^[a-z]+$`; more is refused with
   * that limit in the message.
   * @example
   * { pattern: '^[a-z][a-z0-9_]*$' } // accepts "llm_1", refuses "1llm"
   */
  readonly pattern?: string;
  readonly enum?: readonly string[];
}

/** Constraints of `choice`: the allowed values. Required. */
export interface ChoiceConstraints {
  readonly choices: readonly string[];
}

/** Constraints of `module`: the module type names allowed. */
export interface ModuleConstraints {
  readonly allowedModules?: readonly string[];
}

/** Constraints of `embedding`: the exact vector length. */
export interface EmbeddingConstraints {
  readonly dimensions?: number;
}

/** Constraints of `tensor`: the expected shape; `null` in a dimension accepts any size there. */
export interface TensorConstraints {
  readonly shape?: readonly (number | null)[];
}

/** Constraints of `json`: an optional {@link JsonShape}. */
export interface JsonConstraints {
  readonly shape?: JsonShape;
}

/** Constraints of `list`: item count bounds and an optional scalar type every item must have. */
export interface ListConstraints {
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly itemType?: 'float' | 'integer' | 'string' | 'boolean';
}

/** The constraints each type accepts; any other key is an error. */
export interface ConstraintsByType {
  float: NumberConstraints;
  integer: NumberConstraints;
  string: StringConstraints;
  boolean: Record<string, never>;
  choice: ChoiceConstraints;
  module: ModuleConstraints;
  embedding: EmbeddingConstraints;
  tensor: TensorConstraints;
  json: JsonConstraints;
  list: ListConstraints;
}

/** The constraints of any type, as stored on a record. */
export type Constraints = Readonly<Record<string, unknown>>;

/** The JS value each type holds once validated and normalised. */
export interface ValueByType {
  float: number;
  integer: number;
  string: string;
  boolean: boolean;
  choice: string;
  module: string;
  embedding: readonly number[];
  tensor: TensorValue;
  json: JsonValue;
  list: readonly JsonValue[];
}

/** Options of `defineVariable`; any other key is an error. */
export interface DefineVariableOptions {
  readonly constraints?: Constraints;
  readonly description?: string;
  readonly metadata?: Readonly<Record<string, ReadonlyJsonValue>>;
}

/**
 * The options `defineVariable` takes for a variable of type `T`: its `constraints` are those of its type
 * ({@link ConstraintsByType}), so a misspelt key fails to compile as the runtime refuses it.
 */
export type DefineVariableOptionsFor<T extends VariableType> = Omit<DefineVariableOptions, 'constraints'> & {
  readonly constraints?: Readonly<ConstraintsByType[T]>;
};

/**
 * One variable as the store keeps it. Records are immutable: every accepted write makes a new one whose
 * `version` is one higher. `id` is fixed at definition, so a variable deleted and defined again has a new id.
 */
export interface VariableRecord {
  readonly id: string;
  readonly name: string;
  readonly type: VariableType;
  readonly value: unknown;
  readonly constraints: Constraints;
  readonly description: string;
  readonly metadata: Readonly<Record<string, ReadonlyJsonValue>>;
  readonly version: number;
  /** Wall-clock ISO time of the definition. */
  readonly createdAt: string;
  /** Wall-clock ISO time of the last accepted write. */
  readonly updatedAt: string;
  readonly updatedBy: string | null;
  /** The reason given with the last write, kept for history. */
  readonly reason: string | null;
  readonly lockedBy: string | null;
}
