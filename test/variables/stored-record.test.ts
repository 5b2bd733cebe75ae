import { describe, expect, it } from 'vitest';
import { createVariableRecord } from '../../src/variables/record.js';
import { createStoredRecordReader, type StoredRecordFields } from '../../src/variables/stored-record.js';
import { MAX_JSON_DEPTH, type VariableRecord } from '../../src/variables/index.js';
import { encodeValue } from '../../src/variables/codec.js';
import { compilePattern, type CompiledPattern } from '../../src/variables/string-pattern.js';
import { expectValidation } from './expect-validation.js';

const at = '2024-01-01T00:00:00.000Z';

/** A record as a node writes it, parsed back as the codec parses it (a fresh object, values through the codec). */
function stored(record: VariableRecord, changes: Record<string, unknown> = {}): StoredRecordFields {
  const json = JSON.stringify({ ...record, value: encodeValue(record.type, record.value) });
  return { ...(JSON.parse(json) as StoredRecordFields), ...changes };
}

function define(name: string, type: string, value: unknown, constraints: object = {}): VariableRecord {
  return createVariableRecord({ id: `id-${name}`, name, type, value, options: { constraints }, at });
}

/** The longest value `^[a-z]+$` tests: a longer stored one is taken untested, one this long is tested. */
const { maxInputLength } = compilePattern('^[a-z]+$') as CompiledPattern;

const without = (record: StoredRecordFields, field: string): StoredRecordFields => {
  const copy: Record<string, unknown> = { ...record };
  delete copy[field];
  return copy as StoredRecordFields;
};

// Found by a review: a record put around the nodes with a value its variable refuses, or a field missing, was read
// as it was: it reached modules, exports, and (without lockedBy) locked its variable against every named writer.
describe('stored-record', () => {
  it.each([
    ['float', define('temp', 'float', Number.NaN, { min: 0, max: 1 })],
    ['integer', define('n', 'integer', 3, { min: 0 })],
    ['string', define('s', 'string', 'abc', { pattern: '^[a-z]+$', maxLength: 5 })],
    ['boolean', define('b', 'boolean', false)],
    ['choice', define('c', 'choice', 'red', { choices: ['red', 'blue'] })],
    ['module', define('k', 'module', 'Predict', { allowedModules: ['Predict'] })],
    ['embedding', define('e', 'embedding', [0.1, 0.2], { dimensions: 2 })],
    ['tensor', define('t', 'tensor', { shape: [2, 1], data: [[1], [2]] }, { shape: [null, 1] })],
    ['json', define('j', 'json', { a: ['x'] }, { shape: { properties: { a: { items: { enum: ['x', 'y'] } } } } })],
    ['list', define('l', 'list', [1, 2], { maxItems: 2, itemType: 'integer' })],
  ])('reads back every %s record a node writes, deep-frozen', (_type, record) => {
    const read = createStoredRecordReader()(stored({ ...record, lockedBy: 'alice', reason: 'why', updatedBy: 'bob' }));
    expect(read).toEqual({ ...record, lockedBy: 'alice', reason: 'why', updatedBy: 'bob' });
    expect(Object.isFrozen(read)).toBe(true);
    expect(Object.isFrozen(read.constraints)).toBe(true);
    if (typeof read.value === 'object' && read.value !== null) expect(Object.isFrozen(read.value)).toBe(true);
  });

  it.each([
    [
      'a float above its max',
      define('temp', 'float', 0.5, { max: 1 }),
      { value: 1.8 },
      'temp: value 1.8 is above maximum 1',
    ],
    [
      'a module outside allowedModules',
      define('kind', 'module', 'Predict', { allowedModules: ['Predict'] }),
      { value: 'ChainOfThought' },
      'kind: must be one of the allowed modules: Predict',
    ],
    ['a string for an integer', define('n', 'integer', 1), { value: 'abc' }, 'n: must be an integer, got "abc"'],
    [
      'a string refused by its pattern',
      define('s', 'string', 'a', { pattern: '^a$' }),
      { value: 'b' },
      's: must match pattern: ^a$',
    ],
    [
      'a choice not among its choices',
      define('c', 'choice', 'red', { choices: ['red'] }),
      { value: 'blue' },
      'c: must be one of: red',
    ],
    [
      'an embedding of other dimensions',
      define('e', 'embedding', [1], { dimensions: 1 }),
      { value: [1, 2] },
      'e: must have exactly 1 dimensions, got 2',
    ],
    [
      'a json value its shape refuses',
      define('j', 'json', { a: 1 }, { shape: { properties: { a: { type: 'integer' } } } }),
      { value: { a: 'x' } },
      'j: $.a must be of type integer, got string',
    ],
    [
      'a list item of another type',
      define('l', 'list', [1], { itemType: 'integer' }),
      { value: [1, 'x'] },
      'l: item 1 must be an integer, got "x"',
    ],
    ['a list that is no list', define('l', 'list', [1]), { value: 'x' }, 'l: must be a list, got "x"'],
    [
      'constraints its type does not take',
      define('n', 'integer', 1),
      { constraints: { maxLength: 3 } },
      "n: unknown constraint 'maxLength' for type integer; accepted: min, max",
    ],
    [
      'a bound that is no number',
      define('n', 'integer', 1, { max: 5 }),
      { constraints: { max: '5' } },
      'n: constraint max must be a finite number, got "5"',
    ],
    [
      'a lock owner that is no string',
      define('x', 'integer', 1),
      { lockedBy: 7 },
      "x: stored record field 'lockedBy' must be null or a non-empty lock owner, got 7",
    ],
    [
      'a version of 0',
      define('x', 'integer', 1),
      { version: 0 },
      "x: stored record field 'version' must be a whole number from 1, got 0",
    ],
    [
      'metadata that is no object',
      define('x', 'integer', 1),
      { metadata: [] },
      "x: stored record field 'metadata' must be a JSON object, got an array",
    ],
  ])('refuses %s, naming the variable and the rule a write would name', (_label, record, changes, message) => {
    expectValidation(() => createStoredRecordReader()(stored(record, changes)), message, record.name);
  });

  it.each([
    ['value', 'x: stored record has no value'],
    ['lockedBy', "x: stored record field 'lockedBy' must be null or a non-empty lock owner, got nothing"],
    ['updatedBy', "x: stored record field 'updatedBy' must be a string or null, got nothing"],
    ['createdAt', "x: stored record field 'createdAt' must be a string, got nothing"],
    ['description', "x: stored record field 'description' must be a string, got nothing"],
  ])('refuses a record without %s', (field, message) => {
    expectValidation(() => createStoredRecordReader()(without(stored(define('x', 'integer', 1)), field)), message, 'x');
  });

  // Found by a review: a record an earlier version wrote under a rule tightened since (a lookahead before the
  // linear-time matcher, a value longer than today's pattern budget tests, an owner before owners were bounded) was
  // refused as no node's, and its variable ended on every node at the upgrade.
  it.each([
    ['a pattern this version cannot compile', define('s', 'string', 'a'), { constraints: { pattern: '^(?=a)a$' } }],
    [
      'a value longer than its pattern tests',
      define('s', 'string', 'a', { pattern: '^[a-z]+$' }),
      { value: 'a'.repeat(200_000) },
    ],
    ['a lock owner of more than 256 characters', define('x', 'integer', 1), { lockedBy: 'o'.repeat(300) }],
  ])('reads back a record an earlier version wrote with %s, as stored', (_label, record, changes) => {
    const read = createStoredRecordReader()(stored(record, changes));
    expect(read).toEqual({ ...record, ...changes });
    expect(Object.isFrozen(read.constraints)).toBe(true);
  });

  it('keeps the constraints of a pattern it cannot compile once per variable, and tests no value against it', () => {
    const read = createStoredRecordReader();
    const record = { ...define('s', 'string', 'a'), constraints: { pattern: '^(?=b)' } };
    const first = read(stored(record));
    expect(read(stored(record, { value: 'c', version: 2 })).constraints).toBe(first.constraints);
  });

  it.each([
    [
      'a value its lengths refuse beside a pattern it cannot compile',
      define('s', 'string', 'a', { maxLength: 3 }),
      { value: 'abcd', constraints: { maxLength: 3, pattern: '^(?=a)' } },
      's: must be at most 3 characters, got 4',
    ],
    [
      'a value its enum refuses, too long for its pattern',
      define('s', 'string', 'a', { pattern: '^[a-z]+$', enum: ['a'] }),
      { value: 'b'.repeat(200_000) },
      's: must be one of: a',
    ],
    [
      'a pattern that is no string',
      define('s', 'string', 'a'),
      { constraints: { pattern: 7 } },
      's: constraint pattern must be a RegExp source string, got 7',
    ],
    [
      'a value of another type beside a long lock owner',
      define('x', 'integer', 1),
      { value: 'abc', lockedBy: 'o'.repeat(300) },
      'x: must be an integer, got "abc"',
    ],
    [
      'a value its pattern refuses, exactly as long as the pattern tests',
      define('s', 'string', 'a', { pattern: '^[a-z]+$' }),
      { value: `${'a'.repeat(maxInputLength - 1)}1` },
      's: must match pattern: ^[a-z]+$',
    ],
    [
      'an empty lock owner',
      define('x', 'integer', 1),
      { lockedBy: '' },
      'x: stored record field \'lockedBy\' must be null or a non-empty lock owner, got ""',
    ],
  ])('still refuses %s', (_label, record, changes, message) => {
    expectValidation(() => createStoredRecordReader()(stored(record, changes)), message, record.name);
  });

  it('refuses a json value one level deeper than a write accepts, and reads back the deepest a write does', () => {
    const nested = (depth: number): unknown => (depth === 0 ? 1 : [nested(depth - 1)]);
    const read = createStoredRecordReader();
    const deepest = define('j', 'json', nested(MAX_JSON_DEPTH));
    expect(read(stored(deepest)).value).toEqual(deepest.value);
    expect(() => define('j', 'json', nested(MAX_JSON_DEPTH + 1))).toThrow(/nested deeper/);
    expectValidation(
      () => read(stored(deepest, { value: nested(MAX_JSON_DEPTH + 1) })),
      `j: must be a JSON value nested at most ${MAX_JSON_DEPTH} levels`,
      'j',
    );
  });

  it('refuses metadata one level deeper than a definition accepts, and reads back the deepest a definition does', () => {
    const nested = (depth: number): unknown => (depth === 0 ? 1 : [nested(depth - 1)]);
    const withMetadata = (depth: number): VariableRecord =>
      createVariableRecord({
        id: 'id-x',
        name: 'x',
        type: 'integer',
        value: 1,
        options: { metadata: { m: nested(depth) } },
        at,
      });
    const read = createStoredRecordReader();
    const deepest = withMetadata(MAX_JSON_DEPTH - 1);
    expect(read(stored(deepest)).metadata).toEqual(deepest.metadata);
    expect(() => withMetadata(MAX_JSON_DEPTH)).toThrow(/nested deeper/);
    expectValidation(
      () => read(stored(deepest, { metadata: { m: nested(MAX_JSON_DEPTH) } })),
      `x: stored record field 'metadata' is nested deeper than ${MAX_JSON_DEPTH} levels`,
      'x',
    );
  });

  it('checks a variable’s constraints once, and again when a record under its id brings others', () => {
    const read = createStoredRecordReader();
    const record = define('j', 'json', 'x', { shape: { enum: ['x', 'y'] } });
    const first = read(stored(record));
    // The same normalised constraints object, so what is built per shape (its enum table) is built once.
    expect(read(stored(record, { value: 'y', version: 2 })).constraints).toBe(first.constraints);
    expectValidation(
      () => read(stored(record, { constraints: { shape: { enum: [] } } })),
      'j: constraint shape enum must be a non-empty list of JSON values',
      'j',
    );
    expectValidation(
      () => read(stored(record, { constraints: { shape: { enum: ['y'] } } })),
      /j: \$ must be one of: "y"/,
      'j',
    );
  });
});
