/**
 * Where a store watch starts, read from its {@link WatchOptions} once and checked the same way by every store,
 * so the memory store and the KV store refuse exactly the same options.
 * @module
 */
import { ValidationError } from '../errors.js';
import { assertBooleanOption, assertOptionKeys, optionKeys } from '../option-keys.js';
import type { WatchOptions } from './store.js';
import { printable } from '../printable.js';

/** The keys {@link WatchOptions} takes: a misspelled one read as absent would start the watch elsewhere, silently. */
const WATCH_KEYS = optionKeys<WatchOptions>({ includeCurrent: true, fromRevision: true });

/**
 * - `current`: the current value of every matching key, then live changes;
 * - `live`: live changes only;
 * - `from`: every kept change with a revision at or above `revision`, then live changes from there.
 */
export type WatchStart =
  { readonly kind: 'current' } | { readonly kind: 'live' } | { readonly kind: 'from'; readonly revision: number };

/**
 * Reads where a watch starts; throws a {@link ValidationError} when the options are no object or name another option,
 * when `includeCurrent` is not a boolean (`'false'` would read as true), when `fromRevision` is not a positive safe
 * integer, or when both are given (they say two different things about what comes first).
 */
export function watchStartOf(options: WatchOptions = {}): WatchStart {
  assertOptionKeys(options, 'watch', WATCH_KEYS);
  const { fromRevision, includeCurrent } = options;
  assertBooleanOption('watch', 'includeCurrent', includeCurrent);
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
