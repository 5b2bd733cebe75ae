/**
 * Structure-aware mutation of a well-formed payload: one change at a random place of its tree (a field replaced,
 * deleted, added, duplicated, wrapped, a number or string swapped for an edge case), so that most requests get
 * past the JSON parser and reach the checks of one field.
 * @module
 */
import { DuplicateKeys, RawJson, defineOwn, plainObject } from './json-text.js';
import { deepNesting, edgeNumbers, edgeStrings, garbage } from './garbage.js';
import type { FuzzRandom } from './random.js';

type Path = (string | number)[];
type Node = Record<string | number, unknown>;

/** Whether the mutations may look inside `value` (text written verbatim is a leaf). */
function isBranch(value: unknown): value is Node {
  return (
    value !== null && typeof value === 'object' && !(value instanceof RawJson) && !(value instanceof DuplicateKeys)
  );
}

function paths(value: unknown, at: Path = [], out: Path[] = []): Path[] {
  out.push(at);
  if (Array.isArray(value)) value.forEach((item, i) => paths(item, [...at, i], out));
  else if (isBranch(value)) for (const key of Object.keys(value)) paths(value[key], [...at, key], out);
  return out;
}

function valueAt(root: unknown, path: Path): unknown {
  return path.reduce<unknown>((value, key) => (isBranch(value) ? value[key] : undefined), root);
}

function setAt(root: unknown, path: Path, value: unknown): unknown {
  if (path.length === 0) return value;
  const parent = valueAt(root, path.slice(0, -1));
  if (isBranch(parent)) defineOwn(parent, path.at(-1)!, value);
  return root;
}

/** A deep copy of a payload tree (keeps `__proto__` own keys; verbatim text is shared, being immutable). */
export function clonePayload(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(clonePayload);
  if (isBranch(value)) return plainObject(Object.keys(value).map((key) => [key, clonePayload(value[key])]));
  return value;
}

/** Applies one mutation to `root` (in place where it can); returns the new root and what was done, for the report. */
export function mutatePayload(random: FuzzRandom, root: unknown): [unknown, string] {
  const path = random.pick(paths(root));
  const here = valueAt(root, path);
  const where = path.length ? path.join('.') : '<root>';
  const isPlainObject = isBranch(here) && !Array.isArray(here);
  switch (random.int(7)) {
    case 0:
    case 1:
      return [setAt(root, path, garbage(random)), `replace ${where}`];
    case 2: {
      if (path.length === 0) return [root, 'noop'];
      const parent = valueAt(root, path.slice(0, -1));
      if (Array.isArray(parent)) parent.splice(path.at(-1) as number, 1);
      else if (isBranch(parent)) delete parent[path.at(-1)!];
      return [root, `delete ${where}`];
    }
    case 3: {
      if (!isPlainObject) return [root, 'noop'];
      const key = random.pick([
        '__proto__',
        'constructor',
        'prototype',
        'toString',
        'hasOwnProperty',
        'extra',
        '',
        'tagged',
      ]);
      defineOwn(here, key, garbage(random));
      return [root, `add ${where}.${key}`];
    }
    case 4: {
      if (!isPlainObject) return [root, 'noop'];
      const keys = Object.keys(here);
      if (!keys.length) return [root, 'noop'];
      const key = random.pick(keys);
      const entries: [string, unknown][] = keys.map((k) => [k, here[k]]);
      const duplicate: [string, unknown] = [key, garbage(random)];
      if (random.chance(0.5)) entries.unshift(duplicate);
      else entries.push(duplicate);
      return [setAt(root, path, new DuplicateKeys(entries)), `duplicate ${where}.${key}`];
    }
    case 5: {
      if (typeof here === 'number') return [setAt(root, path, random.pick(edgeNumbers())), `number ${where}`];
      if (typeof here === 'string') return [setAt(root, path, random.pick(edgeStrings(random))), `string ${where}`];
      return [setAt(root, path, deepNesting(random.pick([257, 1000]), random.chance(0.5))), `deep ${where}`];
    }
    default: {
      if (path.length === 0) return [root, 'noop'];
      const wrapped = random.pick([here, here, garbage(random)]) === here ? [here] : { v: here };
      return [setAt(root, path, wrapped), `wrap ${where}`];
    }
  }
}
