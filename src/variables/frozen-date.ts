/**
 * `Object.freeze` does not stop a `Date` from changing: its time lives in an internal slot that its `set…` methods
 * write. A `Date` in a value several readers share (a date field of an execution's output) is frozen here instead by
 * shadowing each of those methods with one that throws a `TypeError`, as an assignment to a frozen object does in
 * strict code. The shadows are own, non-enumerable properties: the `Date` keeps its class, its time, its JSON and its
 * equality to any other `Date` of the same time.
 * @module
 */

/** The `Date.prototype` methods that change a date: `setTime`, `setUTCFullYear`, … and Annex B's `setYear`. */
const SETTERS: readonly string[] = Object.freeze(
  Object.getOwnPropertyNames(Date.prototype).filter((name) => name.startsWith('set')),
);

/**
 * Makes `date` unchangeable through its methods, and freezes it.
 * @example
 * const day = freezeDate(new Date('2024-05-06'));
 * day.setUTCFullYear(1999); // TypeError: Cannot change a frozen Date (setUTCFullYear)
 */
export function freezeDate(date: Date): Date {
  if (Object.isFrozen(date)) return date;
  for (const name of SETTERS) {
    Object.defineProperty(date, name, {
      value: () => {
        throw new TypeError(`Cannot change a frozen Date (${name})`);
      },
    });
  }
  return Object.freeze(date);
}
