/**
 * What JSON would silently drop or rewrite on a value's way to the model: Ax writes object inputs and tool results as
 * JSON, where a `Map` or a `Set` becomes `{}` (its entries lost), a function or a symbol is dropped (or, in a list,
 * becomes `null`), and a number that is not finite becomes `null`.
 * @module
 */

/**
 * What `value` is when JSON would drop it or write it as something else; `undefined` when JSON carries it (or its
 * parts, if it has any). A `Date` is carried, as text.
 */
export function lostInJson(value: unknown): string | undefined {
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'symbol') return 'a symbol';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  if (value instanceof Map || value instanceof Set || value instanceof WeakMap || value instanceof WeakSet)
    return `a ${value.constructor.name}`;
  if (value instanceof Promise) return 'a Promise';
  return undefined;
}
