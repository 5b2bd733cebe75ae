/**
 * Where a store watch starts, read from its {@link WatchOptions} once and checked the same way by every store,
 * so the memory store and the KV store refuse exactly the same options.
 * @module
 */
import { ValidationError } from '../errors.js';
import type { WatchOptions } from './store.js';
import { printable } from '../printable.js';

/**
 * - `current`: the current value of every matching key, then live changes;
 * - `live`: live changes only;
 * - `from`: every kept change with a revision at or above `revision`, then live changes from there.
 */
export type WatchStart =
  { readonly kind: 'current' } | { readonly kind: 'live' } | { readonly kind: 'from'; readonly revision: number };

/**
 * Reads where a watch starts; throws a {@link ValidationError} when `fromRevision` is not a positive safe
 * integer, or is given together with `includeCurrent` (they say two different things about what comes first).
 */
export function watchStartOf(options: WatchOptions = {}): WatchStart {
  const { fromRevision, includeCurrent } = options;
  if (fromRevision === undefined) return includeCurrent === false ? { kind: 'live' } : { kind: 'current' };
  if (!Number.isSafeInteger(fromRevision) || fromRevision < 1) {
    throw new ValidationError(`watch fromRevision must be a positive integer, got ${printable(fromRevision)}`, {
      details: { fromRevision },
    });
  }
  if (includeCurrent !== undefined) {
    throw new ValidationError(
      `watch options fromRevision (${fromRevision}) and includeCurrent (${String(includeCurrent)}) exclude each ` +
        'other: give one of them',
      { details: { fromRevision, includeCurrent } },
    );
  }
  return { kind: 'from', revision: fromRevision };
}
