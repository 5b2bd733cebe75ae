/**
 * `json` and `list` values, the two types Tether adds to DSPex's eight: any JSON value (optionally checked
 * against a shape) and a list of JSON values (optionally of one scalar type).
 * @module
 */
import { fail, show } from './failure.js';
import { checkJsonShape } from './json-shape.js';
import { freezeJson, shownPath } from './json-value.js';
import type { JsonConstraints, JsonValue, ListConstraints } from './types.js';

/**
 * Validates a `json` value: anything JSON carries unchanged, as a deep frozen copy. Refused, with the path of
 * the first offender: `undefined`, functions, symbols, bigints, non-finite numbers, cycles, sparse arrays and
 * class instances such as `Date` or `Map` (JSON would silently turn each into something else). Then `shape`.
 * @example
 * validateJson({ retries: 3, tags: ['a'] }, {}, 'config')
 */
export function validateJson(value: unknown, constraints: JsonConstraints, variable: string): JsonValue {
  const copy = freezeJson(value, (path, problem) =>
    fail(variable, `must be a JSON value; ${shownPath(path)} is ${problem}`, { constraint: 'type', path }),
  );
  if (constraints.shape !== undefined) checkJsonShape(copy, constraints.shape, variable);
  return copy;
}

type ItemType = NonNullable<ListConstraints['itemType']>;

/** Item checks for `itemType`: strict, with no coercion, since list items arrive as JSON and mean what they are. */
interface ItemCheck {
  readonly accepts: (item: JsonValue) => boolean;
  readonly phrase: string;
}

const ITEM_CHECKS: Readonly<Record<ItemType, ItemCheck>> = {
  float: { accepts: (item) => typeof item === 'number', phrase: 'must be a number' },
  integer: { accepts: (item) => typeof item === 'number' && Number.isSafeInteger(item), phrase: 'must be an integer' },
  string: { accepts: (item) => typeof item === 'string', phrase: 'must be a string' },
  boolean: { accepts: (item) => typeof item === 'boolean', phrase: 'must be a boolean (true or false)' },
};

/**
 * Validates a `list`: an array of JSON values, then `minItems`, `maxItems` and `itemType`, first failure
 * reported. Items are not coerced (`"true"` is not a boolean item): the scalar types accept wire spellings
 * because a single value may come from a CLI, but a list is already structured JSON.
 * @example
 * validateList(['a', 'b'], { minItems: 1, itemType: 'string' }, 'stopSequences')
 */
export function validateList(value: unknown, constraints: ListConstraints, variable: string): readonly JsonValue[] {
  if (!Array.isArray(value)) return fail(variable, `must be a list, got ${show(value)}`, { constraint: 'type' });
  const copy = freezeJson(value, (path, problem) =>
    fail(variable, `must be a list of JSON values; ${shownPath(path)} is ${problem}`, { constraint: 'type', path }),
  ) as readonly JsonValue[];
  checkListConstraints(copy, constraints, variable);
  return copy;
}

/**
 * The `minItems`, `maxItems` and `itemType` checks of a list already known to hold JSON values (a validated copy, or
 * a list parsed from a stored record), first failure reported as {@link validateList} reports it.
 */
export function checkListConstraints(list: readonly JsonValue[], constraints: ListConstraints, variable: string): void {
  const { minItems, maxItems, itemType } = constraints;
  if (minItems !== undefined && list.length < minItems) {
    fail(variable, `must have at least ${minItems} items, got ${list.length}`, { constraint: 'minItems', minItems });
  }
  if (maxItems !== undefined && list.length > maxItems) {
    fail(variable, `must have at most ${maxItems} items, got ${list.length}`, { constraint: 'maxItems', maxItems });
  }
  if (itemType !== undefined) {
    const check = ITEM_CHECKS[itemType];
    const index = list.findIndex((item) => !check.accepts(item));
    if (index !== -1) {
      fail(variable, `item ${index} ${check.phrase}, got ${show(list[index])}`, {
        constraint: 'itemType',
        itemType,
        index,
      });
    }
  }
}
