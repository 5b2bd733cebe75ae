/**
 * What the differential fuzzer's calls are made of: variable names (valid and not), a type for each valid name,
 * values each type takes or refuses, constraints, option bags and module specs. Every draw goes through the seeded
 * random source, so a seed replays the same calls.
 * @module
 */
import { VARIABLE_TYPES } from '../../../src/variables/types.js';
import type { FuzzRandom } from '../wire-fuzz/random.js';

/** Each valid name of the pool with the type it is usually defined with. */
export const NAME_TYPES: Readonly<Record<string, string>> = {
  t: 'float',
  n: 'integer',
  s: 'string',
  b: 'boolean',
  c: 'choice',
  m: 'module',
  e: 'embedding',
  x: 'tensor',
  j: 'json',
  l: 'list',
};

/** The valid names: few, so that calls keep meeting variables that exist. */
export const NAMES = Object.keys(NAME_TYPES);

/** Names every call must refuse: a dot, wildcards, white space, empty, too long, not a name, not a string. */
export const BAD_NAMES: readonly unknown[] = [
  'a.b',
  't*',
  '*',
  '>',
  't >',
  'a b',
  ' t',
  '',
  '1abc',
  'é',
  'n'.repeat(129),
  42,
  null,
  undefined,
  ['t'],
  { name: 't' },
];

/** A name: mostly a valid one, sometimes one that is refused. */
export function someName(random: FuzzRandom): unknown {
  return random.chance(0.88) ? random.pick(NAMES) : random.pick(BAD_NAMES);
}

/** A type for a definition of `name`: its own mostly, another or an unknown one sometimes. */
export function typeFor(random: FuzzRandom, name: unknown): unknown {
  const own = typeof name === 'string' ? NAME_TYPES[name] : undefined;
  if (own && random.chance(0.85)) return own;
  return random.chance(0.85)
    ? random.pick(VARIABLE_TYPES)
    : random.pick(['Float', 'text', 'number', '', 7, null, undefined]);
}

/** Values each type takes under its clean constraints (see {@link cleanDefinition}). */
const TAKEN: Readonly<Record<string, readonly unknown[]>> = {
  float: [0, 0.5, 1.25, 2],
  integer: [0, 1, 7, 42],
  string: ['a', 'aaa', 'héllo', ''],
  boolean: [true, false],
  choice: ['x', 'y', 'z'],
  module: ['Predict', 'ChainOfThought'],
  embedding: [
    [1, 2, 3],
    [0.5, 0.25, 0],
  ],
  tensor: [{ shape: [2, 2], data: [1, 2, 3, 4] }],
  json: [{ a: 1 }, [1, 'two', null], 'text'],
  list: [[1, 2], [], ['a']],
};

/** Constraints that every value of {@link TAKEN} of the type meets. */
const CLEAN_CONSTRAINTS: Readonly<Record<string, object | undefined>> = {
  float: { min: 0, max: 2 },
  integer: { min: 0, max: 100 },
  string: { maxLength: 10 },
  choice: { choices: ['x', 'y', 'z'] },
  module: { allowedModules: ['Predict', 'ChainOfThought'] },
  embedding: { dimensions: 3 },
  tensor: { shape: [2, 2] },
};

/** A definition every side takes on a free name: the name's type, a value it takes, constraints that hold. */
export function cleanDefinition(random: FuzzRandom, name: string): [type: string, value: unknown, options: object] {
  const type = NAME_TYPES[name]!;
  const constraints = CLEAN_CONSTRAINTS[type];
  const options = constraints && (type === 'choice' || random.chance(0.5)) ? { constraints } : {};
  return [type, random.pick(TAKEN[type]!), options];
}

/** A value for a variable of `type`: mostly one the type takes, sometimes one it or its constraints refuse. */
export function valueFor(random: FuzzRandom, type: unknown): unknown {
  const taken = typeof type === 'string' ? TAKEN[type] : undefined;
  if (taken && random.chance(0.5)) return random.pick(taken);
  if (random.chance(0.15)) return anyValue(random);
  switch (type) {
    case 'float':
      return random.pick([
        0,
        0.5,
        1.25,
        2,
        -1,
        3,
        42,
        Number.NaN,
        Infinity,
        -Infinity,
        'NaN',
        'Infinity',
        '1.5',
        1e308,
      ]);
    case 'integer':
      return random.pick([0, 1, 7, -3, 42.0, 100, 3.14, '42', 2 ** 53, 2 ** 60, -0]);
    case 'string':
      return random.pick(['', 'a', 'aaa', 'héllo', '😀😀', 'b'.repeat(12), 'a b.c*>', 'line\nbreak', 5]);
    case 'boolean':
      return random.pick([true, false, 'true', 'false', 1, 0, 'yes', 2, null]);
    case 'choice':
      return random.pick(['x', 'y', 'z', '', 1]);
    case 'module':
      return random.pick(['Predict', 'ChainOfThought', 'cot', 'COT', 'PoT', 'NoSuchType', '', 3]);
    case 'embedding':
      return random.pick([[1, 2, 3], [0.5, 0.25, 0], [1, 2], [], [1, 'a', 3], [Number.NaN, 1, 2], 'v']);
    case 'tensor':
      return random.pick([
        { shape: [2, 2], data: [1, 2, 3, 4] },
        { shape: [3], data: [1, 2, 3] },
        { shape: [2, 2], data: [1, 2, 3] },
        { shape: [2], data: [1, 'x'] },
        { data: [1] },
        [1, 2],
      ]);
    case 'json':
      return random.pick([{ a: 1 }, [1, 'two', null], 'text', null, 3.5, { deep: { er: [true] } }, { n: 1n }]);
    case 'list':
      return random.pick([[], [1, 2], ['a', { b: 1 }], 'x', { 0: 'a' }, [undefined]]);
    default:
      return anyValue(random);
  }
}

function anyValue(random: FuzzRandom): unknown {
  return random.pick([0, 1, 'x', true, null, undefined, [1], { a: 1 }, Number.NaN, 1n, () => 1, new Date(0)]);
}

/** Constraints for a definition of `type`: none, ones it takes, or ones it refuses (unknown keys, bad values). */
export function constraintsFor(random: FuzzRandom, type: unknown): unknown {
  if (random.chance(0.3)) return undefined;
  if (random.chance(0.12))
    return random.pick([{ bogus: 1 }, null, 'min', [], { min: 'zero' }, { maxLength: -1 }, { choices: [] }]);
  switch (type) {
    case 'float':
      return random.pick([{ min: 0, max: 2 }, { min: 1 }, { max: 0.5 }, { min: 2, max: 1 }]);
    case 'integer':
      return random.pick([{ min: 0, max: 10 }, { min: -5 }, { max: 50 }]);
    case 'string':
      return random.pick([
        { minLength: 1, maxLength: 5 },
        { pattern: '^a+$' },
        { pattern: '(' },
        { pattern: '(a)\\1' },
        { pattern: '(?=a)a' },
        { enum: ['a', 'aaa', ''] },
      ]);
    case 'choice':
      return random.pick([{ choices: ['x', 'y'] }, { choices: ['x'] }, { choices: 'x' }, {}]);
    case 'module':
      return random.pick([{ allowedModules: ['Predict', 'ChainOfThought'] }, { allowedModules: ['Nope'] }]);
    case 'embedding':
      return random.pick([{ dimensions: 3 }, { dimensions: 2 }, { dimensions: 0 }]);
    case 'tensor':
      return random.pick([{ shape: [2, 2] }, { shape: [3] }, { shape: 'x' }]);
    case 'json':
      return random.pick([{ shape: { type: 'object' } }, { shape: 5 }, {}]);
    default:
      return random.pick([{}, { min: 0 }]);
  }
}

/** A define's option bag: none, the documented keys, or ones it refuses. */
export function defineOptions(random: FuzzRandom, type: unknown): unknown {
  if (random.chance(0.15)) return undefined;
  if (random.chance(0.1))
    return random.pick([null, [], 'x', { descr: 'x' }, { description: 5 }, { metadata: 'm' }, { metadata: [1] }]);
  const options: Record<string, unknown> = {};
  const constraints = constraintsFor(random, type);
  if (constraints !== undefined || random.chance(0.1)) options.constraints = constraints;
  if (random.chance(0.3)) options.description = random.pick(['a variable', '', 'ünïcode']);
  if (random.chance(0.3)) options.metadata = random.pick([{ tag: 'x' }, { nested: { a: [1] } }, {}]);
  return options;
}

/** `updatedBy` and lock owners: the two users, and what no one can be. */
export const OWNERS = ['alice', 'bob'];
export function someOwner(random: FuzzRandom): unknown {
  return random.chance(0.85) ? random.pick(OWNERS) : random.pick(['', 5, null, undefined, 'o'.repeat(300)]);
}

/** Glob patterns for `listVariables`. */
export function somePattern(random: FuzzRandom): unknown {
  return random.pick([undefined, '*', 't*', '*n', 's', 'nope', 'a.b', '', '>', 't?', '**', 5, null]);
}

const SIGNATURE = 'question:string -> answer:string';

/** Module ids: two valid ones, and some that are refused. */
export function someModuleId(random: FuzzRandom): unknown {
  return random.chance(0.9) ? random.pick(['qa', 'qb']) : random.pick(['q.a', 'q*', '', 'q a', 7, null]);
}

/** A spec for `session.module(id, spec)`, on the echo model: mostly one that runs, sometimes one refused. */
export function someSpec(random: FuzzRandom): unknown {
  if (random.chance(0.12))
    return random.pick([
      null,
      'Predict',
      { signature: SIGNATURE },
      { type: 'Predict', typeVariable: 'm', signature: SIGNATURE },
      { type: 'NoSuchType', signature: SIGNATURE },
      { type: 'Predict', signature: 'not a signature' },
      { type: 'Predict', signature: SIGNATURE, bindings: { bogus: 't' } },
      { type: 'Predict', signature: SIGNATURE, bindings: { temperature: 'a.b' } },
      { type: 'Predict', signature: SIGNATURE, bindings: 't' },
      { type: 'Predict', signature: SIGNATURE, temperature: 5 },
      { type: 'Predict', signature: SIGNATURE, tools: ['nope'] },
      { type: 'ReAct', signature: SIGNATURE, tools: ['nope'] },
      { type: 'Predict', signature: SIGNATURE, samples: 3 },
      { type: 'Predict', signature: SIGNATURE, extra: 1 },
    ]);
  const spec: Record<string, unknown> = random.chance(0.3)
    ? { typeVariable: 'm', signature: SIGNATURE }
    : { type: random.pick(['Predict', 'ChainOfThought', 'cot']), signature: SIGNATURE };
  const bindings: Record<string, unknown> = {};
  if (random.chance(0.4)) return spec;
  if (random.chance(0.6)) bindings.temperature = random.pick(['t', 't', 'n', 'nope']);
  if (random.chance(0.4)) bindings.maxTokens = random.pick(['n', 'n', 't']);
  if (random.chance(0.2)) bindings.instructions = 's';
  if (random.chance(0.1)) bindings.model = 's';
  if (Object.keys(bindings).length > 0) spec.bindings = bindings;
  if (random.chance(0.2)) spec.maxTokens = random.pick([10, 500]);
  return spec;
}

/** Inputs for `execute`: mostly what the signature takes. */
export function someInputs(random: FuzzRandom): unknown {
  if (random.chance(0.8)) return { question: random.pick(['why?', 'héllo', '']) };
  return random.pick([{}, { question: 5 }, { question: 'q', other: 1 }, null, 'q', { question: new Date(0) }]);
}
