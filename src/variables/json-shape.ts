/**
 * The JSON-Schema-lite `shape` of `json` variables: checking a shape when the variable is defined, and checking
 * a value against it on every write. The subset users reach for, with no schema library and no `$ref`.
 * @module
 */
import { fail } from './failure.js';
import { enumMembership } from './json-shape-enums.js';
import { declaredKeysOf, distinct } from './json-shape-lookups.js';
import { freezeJson, isPlainObject, MAX_JSON_DEPTH, renderPath, shownPath } from './json-value.js';
import type { JsonShape, JsonShapeType, JsonValue } from './types.js';

/** The type names a shape understands, in the order messages list them. */
export const JSON_SHAPE_TYPES: readonly JsonShapeType[] = Object.freeze([
  'null',
  'boolean',
  'number',
  'integer',
  'string',
  'array',
  'object',
]);

/**
 * How many containers deep a shape `normalizeJsonShape` accepts holds, counted as JSON nests them (the shape itself at
 * depth 0): a shape nests {@link MAX_JSON_DEPTH} levels, but each level of `properties` is two JSON levels (the
 * `properties` object, then the shape in it), and the deepest shape's `enum` holds options that nest as deep as any
 * JSON value. What carries shapes as JSON (a record in a reply, a define's options) must carry this deep.
 */
export const MAX_SHAPE_JSON_DEPTH = 2 * (MAX_JSON_DEPTH - 1) + 1 + (MAX_JSON_DEPTH - 1);

const SHAPE_KEYS = ['type', 'properties', 'required', 'additionalProperties', 'items', 'enum', 'minItems', 'maxItems'];

/**
 * Checks a `shape` constraint at definition time and returns its frozen copy. Every mistake is reported with
 * the path inside the shape (`shape.properties.model.type`), because a schema typo otherwise shows up much
 * later as a value the user believes is valid being refused.
 */
export function normalizeJsonShape(raw: unknown, variable: string | undefined, path = 'shape', depth = 0): JsonShape {
  const bad = (phrase: string): never => fail(variable, `constraint ${path} ${phrase}`, { constraint: 'shape' });
  if (!isPlainObject(raw)) return bad('must be an object');
  if (depth >= MAX_JSON_DEPTH) return bad(`is nested deeper than ${MAX_JSON_DEPTH} levels`);
  const unknown = Object.keys(raw).find((key) => !SHAPE_KEYS.includes(key));
  if (unknown !== undefined) return bad(`has unknown key '${unknown}'; accepted: ${SHAPE_KEYS.join(', ')}`);

  const shape: { -readonly [K in keyof JsonShape]: JsonShape[K] } = {};
  const { type, properties, required, additionalProperties, items, minItems, maxItems } = raw;
  if (type !== undefined) shape.type = normalizeType(type, bad);
  if (properties !== undefined) {
    if (!isPlainObject(properties)) return bad('properties must be an object of shapes');
    const entries = Object.keys(properties).map((key): [string, JsonShape] => [
      key,
      normalizeJsonShape(properties[key], variable, renderPath(`${path}.properties`, [key]), depth + 1),
    ]);
    shape.properties = Object.freeze(Object.fromEntries(entries));
  }
  if (required !== undefined) {
    if (!Array.isArray(required) || !required.every((key) => typeof key === 'string')) {
      return bad('required must be a list of property names');
    }
    shape.required = Object.freeze([...(required as string[])]);
  }
  if (additionalProperties !== undefined) {
    if (typeof additionalProperties !== 'boolean') return bad('additionalProperties must be true or false');
    shape.additionalProperties = additionalProperties;
  }
  if (items !== undefined) shape.items = normalizeJsonShape(items, variable, `${path}.items`, depth + 1);
  if (raw.enum !== undefined) {
    if (!Array.isArray(raw.enum) || raw.enum.length === 0) return bad('enum must be a non-empty list of JSON values');
    const report = (where: string, problem: string): never => bad(`enum must hold JSON values; ${where} is ${problem}`);
    shape.enum = freezeJson(raw.enum, report) as JsonValue[];
  }
  if (minItems !== undefined) shape.minItems = count(minItems, 'minItems', bad);
  if (maxItems !== undefined) shape.maxItems = count(maxItems, 'maxItems', bad);
  if (shape.minItems !== undefined && shape.maxItems !== undefined && shape.minItems > shape.maxItems) {
    return bad(`minItems ${shape.minItems} is greater than maxItems ${shape.maxItems}`);
  }
  return Object.freeze(shape);
}

function normalizeType(type: unknown, bad: (phrase: string) => never): JsonShapeType | readonly JsonShapeType[] {
  const known = (name: unknown): name is JsonShapeType => JSON_SHAPE_TYPES.includes(name as JsonShapeType);
  if (known(type)) return type;
  if (Array.isArray(type) && type.length > 0 && type.every(known)) return Object.freeze([...type]);
  return bad(`type must be one of ${JSON_SHAPE_TYPES.join(', ')}, or a non-empty list of them`);
}

function count(value: unknown, key: string, bad: (phrase: string) => never): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  return bad(`${key} must be a non-negative integer`);
}

/** The shape type name of a JSON value, as messages report it (`integer` only matters when asked for). */
function jsonTypeOf(value: JsonValue): Exclude<JsonShapeType, 'integer'> {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value as 'boolean' | 'number' | 'string' | 'object';
}

function hasType(value: JsonValue, type: JsonShapeType): boolean {
  if (type === 'integer') return typeof value === 'number' && Number.isInteger(value);
  return jsonTypeOf(value) === type;
}

/**
 * Checks a JSON value against a normalised shape, reporting the first failure with its path (`$.tags[1]`).
 * Per node the order is `type`, `enum`, then `minItems`, `maxItems`, `items` for arrays and `required`,
 * `additionalProperties`, `properties` for objects. Keywords that do not apply to the value's type are
 * ignored, as in JSON Schema.
 * @example
 * checkJsonShape({ model: 1 }, { properties: { model: { type: 'string' } } }, 'config')
 * // throws "config: $.model must be of type string, got number"
 */
export function checkJsonShape(value: JsonValue, shape: JsonShape, variable: string): void {
  const keys: (string | number)[] = [];
  // Numbers the shape's enum options on the first enum met (once per shape), and this value's nodes as checked.
  let isOption: ReturnType<typeof enumMembership> | undefined;
  const bad = (phrase: string): never => {
    const path = renderPath('$', keys);
    return fail(variable, `${shownPath(path)} ${phrase}`, { constraint: 'shape', path });
  };

  const visit = (node: JsonValue, rule: JsonShape): void => {
    if (rule.type !== undefined) {
      const types: readonly JsonShapeType[] = typeof rule.type === 'string' ? [rule.type] : distinct(rule.type);
      if (!types.some((type) => hasType(node, type))) {
        // The list as written, repeats and all: the message is the one it has always been.
        bad(`must be of type ${[rule.type].flat().join(' or ')}, got ${jsonTypeOf(node)}`);
      }
    }
    if (rule.enum !== undefined && !(isOption ??= enumMembership(shape))(rule.enum, node)) {
      bad(`must be one of: ${rule.enum.map((option) => JSON.stringify(option)).join(', ')}`);
    }
    if (Array.isArray(node)) visitArray(node, rule);
    else if (node !== null && typeof node === 'object') visitObject(node, rule);
  };

  const visitArray = (node: readonly JsonValue[], rule: JsonShape): void => {
    if (rule.minItems !== undefined && node.length < rule.minItems) {
      bad(`must have at least ${rule.minItems} items, got ${node.length}`);
    }
    if (rule.maxItems !== undefined && node.length > rule.maxItems) {
      bad(`must have at most ${rule.maxItems} items, got ${node.length}`);
    }
    const items = rule.items;
    if (items === undefined) return;
    node.forEach((item, i) => {
      keys.push(i);
      visit(item, items);
      keys.pop();
    });
  };

  const visitObject = (node: { readonly [key: string]: JsonValue }, rule: JsonShape): void => {
    const missing = rule.required && distinct(rule.required).find((key) => !Object.hasOwn(node, key));
    if (missing !== undefined) bad(`is missing required property '${missing}'`);
    const properties = rule.properties ?? {};
    if (rule.additionalProperties === false) {
      const extra = Object.keys(node).find((key) => !Object.hasOwn(properties, key));
      if (extra !== undefined) bad(`has unexpected property '${extra}'`);
    }
    for (const key of declaredKeysOf(properties, node)) {
      const child = properties[key];
      if (child === undefined) continue;
      keys.push(key);
      visit(node[key] as JsonValue, child);
      keys.pop();
    }
  };

  visit(value, shape);
}
