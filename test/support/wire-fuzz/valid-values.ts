/**
 * Well-formed pieces of requests, the starting point of every mutation: values a variable of each type accepts
 * (and some its constraints refuse), and module specs the offline echo model can run.
 * @module
 */
import { plainObject } from './json-text.js';
import type { FuzzRandom } from './random.js';

/** The `updatedBy` and lock owners the requests use. */
export const OWNERS = ['alice', 'bob'] as const;

/** The types a `var.define` or `var.import` of a new name gets. */
export const NEW_VARIABLE_TYPES = ['float', 'integer', 'string', 'boolean', 'json', 'list'] as const;

/** A value for a variable of `type`: mostly accepted, sometimes out of the base variables' constraints. */
export function validValue(random: FuzzRandom, type: string): unknown {
  switch (type) {
    case 'float':
      return random.pick([random.next() * 2, 0, 2, 'NaN', 1.25]);
    case 'integer':
      return random.int(201) - 100;
    case 'string':
      return random.pick(['x', 'héllo', '😀', '', 'a b.c*>', 'q'.repeat(random.int(40))]);
    case 'boolean':
      return random.pick([true, false, 'true', 'false', 1, 0]);
    case 'choice':
      return random.pick(['a', 'b', 'c']);
    case 'json':
      return random.pick([
        { k: random.int(9) },
        [1, 'two', null],
        plainObject([['__proto__', { x: 1 }]]),
        plainObject([
          ['constructor', 'c'],
          ['prototype', 1],
        ]),
        { nested: plainObject([['__proto__', [1]]]) },
        'text',
        null,
        3.5,
      ]);
    case 'list':
      return Array.from({ length: random.int(5) }, () => random.int(10));
    case 'embedding':
      return [random.next(), random.next(), random.next()];
    case 'tensor':
      return { shape: [2, 2], data: [random.int(5), 1, 2, random.next()] };
    case 'module':
      return random.pick(['Predict', 'ChainOfThought', 'cot', 'NoSuchType']);
    default:
      return null;
  }
}

/** A module spec for `module.create`, bound (or not) to the float `f` for its temperature. */
export function validSpec(random: FuzzRandom): Record<string, unknown> {
  const spec: Record<string, unknown> = {
    type: random.pick(['Predict', 'ChainOfThought', 'cot']),
    signature: 'question:string -> answer:string',
  };
  if (random.chance(0.5)) spec.bindings = { temperature: random.pick(['f', 'f', 'nope']) };
  if (random.chance(0.3)) spec.maxTokens = 1 + random.int(1000);
  if (random.chance(0.3)) spec.temperature = random.next() * 2;
  if (random.chance(0.2)) spec.stopSequences = ['x'];
  return spec;
}
