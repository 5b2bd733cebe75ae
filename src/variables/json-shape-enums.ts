/**
 * `enum` membership for `json` shapes in time linear in the value and the shape. Every node of every option in a
 * shape gets an id, once per shape, such that deeply equal JSON values get the same id; a checked value's nodes
 * are then numbered bottom-up against that table, each once per check, and a membership test is one set lookup.
 * Comparing with each option instead cost the value's size times the options' (an array of 20,000 items against an
 * enum of 20,000 options held the node's one thread for 16 s), and a canonical string per checked node still cost
 * its size times its depth when nested enums each re-serialised the subtree below them.
 * @module
 */
import type { JsonShape, JsonValue } from './types.js';

/** The id of a value that is no node of any option: it cannot be equal to one, nor can anything containing it. */
const UNKNOWN = -1;

/** The ids of one shape's option nodes by signature, and of each `enum`'s options. */
interface EnumTable {
  readonly ids: ReadonlyMap<string, number>;
  readonly options: ReadonlyMap<readonly JsonValue[], ReadonlySet<number>>;
}

// Normalised shapes are frozen, so a table built once stays true for the shape's life.
const tables = new WeakMap<JsonShape, EnumTable>();

/**
 * A string equal for two JSON values exactly when they are deeply equal (the equality `enum` has always used:
 * objects by their entries in any key order, arrays in order, scalars by type and value, so `1` is not `"1"`),
 * given the ids of their children: a container's signature is as long as its own entries, never its subtree.
 * Scalars are their JSON text; `[` and `{` mark containers, and a child's id ends with `,`, so none collide.
 * Returns undefined as soon as a child has no id (then no option can equal the value).
 */
function signatureOf(value: JsonValue, idOf: (child: JsonValue) => number): string | undefined {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  let signature: string;
  if (Array.isArray(value)) {
    signature = '[';
    for (const item of value) {
      const id = idOf(item);
      if (id === UNKNOWN) return undefined;
      signature += `${id},`;
    }
  } else {
    signature = '{';
    for (const key of Object.keys(value).sort()) {
      const id = idOf(value[key] as JsonValue);
      if (id === UNKNOWN) return undefined;
      signature += `${JSON.stringify(key)}:${id},`;
    }
  }
  return signature;
}

/** Numbers every node of every `enum` option reachable from `root`, once: the cost of the shape's size. */
function buildTable(root: JsonShape): EnumTable {
  const ids = new Map<string, number>();
  const intern = (value: JsonValue): number => {
    // Never undefined here: interning gives every child an id.
    const signature = signatureOf(value, intern) as string;
    let id = ids.get(signature);
    if (id === undefined) ids.set(signature, (id = ids.size));
    return id;
  };
  const options = new Map<readonly JsonValue[], ReadonlySet<number>>();
  // A loop with a seen set rather than recursion, so that a shape built by hand with a shared or cyclic node
  // (which a check only follows as deep as the value goes) cannot make this walk loop or overflow the stack.
  const seen = new Set<JsonShape>();
  const pending: JsonShape[] = [root];
  for (let shape = pending.pop(); shape !== undefined; shape = pending.pop()) {
    if (seen.has(shape)) continue;
    seen.add(shape);
    if (shape.enum !== undefined && !options.has(shape.enum)) options.set(shape.enum, new Set(shape.enum.map(intern)));
    if (shape.items !== undefined) pending.push(shape.items);
    const properties = shape.properties ?? {};
    for (const key of Object.keys(properties)) pending.push(properties[key] as JsonShape);
  }
  return { ids, options };
}

/**
 * Returns the `enum` test for one check of a value against `root`: whether a node of the value is deeply equal
 * to one of `options`, the `enum` of a shape node under `root`. Create one per check: it remembers the ids of the
 * value's nodes, so that nested enums do not number the same subtree again.
 * @example
 * const isOption = enumMembership(shape);
 * isOption(shape.enum, { b: 2, a: 1 }); // true when shape.enum holds { a: 1, b: 2 }
 */
export function enumMembership(root: JsonShape): (options: readonly JsonValue[], value: JsonValue) => boolean {
  let table = tables.get(root);
  if (table === undefined) tables.set(root, (table = buildTable(root)));
  const { ids, options: optionIds } = table;
  const known = new Map<object, number>();
  const idOf = (value: JsonValue): number => {
    // Scalars are not remembered: each is numbered by the one container holding it, and that only once.
    if (value === null || typeof value !== 'object') return ids.get(JSON.stringify(value)) ?? UNKNOWN;
    let id = known.get(value);
    if (id === undefined) {
      const signature = signatureOf(value, idOf);
      id = signature === undefined ? UNKNOWN : (ids.get(signature) ?? UNKNOWN);
      known.set(value, id);
    }
    return id;
  };
  return (options, value) => {
    const members = optionIds.get(options);
    // An enum not under root (a caller's slip) is numbered on its own: the same answer, only not kept.
    if (members === undefined) return enumMembership({ enum: options })(options, value);
    return members.has(idOf(value));
  };
}
