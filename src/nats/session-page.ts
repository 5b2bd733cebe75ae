/**
 * One page of the list of sessions that exist: what a request for it may ask (`after`, `limit`), checked alike on
 * the wire (`<prefix>.v1.sessions.list`), by the remote client's `listSessions` and by `runtime.listSessions`, so
 * the three refuse the same input with the same `ValidationError`; and the paging of a sorted list of ids.
 *
 * Pages go by id, not by position: `next` is the last id of a page, and the next page starts strictly after it,
 * so a session opened or deleted between two pages neither shifts the others nor repeats one.
 * @module
 */
import { InternalError, ValidationError } from '../errors.js';
import { assertKindReadable } from '../option-keys.js';
import { kindOf } from '../variables/failure.js';
import { assertFields, isLeftOut, optionalString } from './request-fields.js';
import type { RequestBody } from './wire.js';

/**
 * Options of `listSessions` (the request body of `sessions.list`); an option set to `undefined` or `null` counts as
 * absent.
 */
export interface ListSessionsOptions {
  /** Only ids after this one, in code-point order; need not be an id that exists. @default from the first */
  readonly after?: string | undefined;
  /** At most this many ids, a whole number from 1 to 5000. @default 1000 */
  readonly limit?: number | undefined;
}

/** One page of session ids. */
export interface SessionPage {
  /** Session ids in code-point order. */
  readonly ids: string[];
  /** Present only when more ids follow: the last id of this page, to pass as `after` for the next one. */
  readonly next?: string;
}

/** A page request as checked: `after` when given, `limit` with its default applied. */
export interface PageRequest {
  readonly after: string | undefined;
  readonly limit: number;
}

/** Ids per page when the request gives no `limit`. */
export const DEFAULT_SESSION_PAGE = 1000;

/** The largest `limit`: a page of 5000 ids of 128 characters, quoted and comma-separated, stays under 1 MiB. */
export const MAX_SESSION_PAGE = 5000;

/**
 * The longest `after`: a session id's and a module id's longest (src/variables/names.ts, module-spec.ts); a longer
 * one can come before no id.
 */
const MAX_AFTER_LENGTH = 128;

/** The operation the errors name: the wire's, for every caller, so each gets the same words. */
const OPERATION = 'sessions.list';

/** What a list other than `sessions.list` pages like it (`module.list`): its name, its other fields, its default. */
export interface PagedList {
  readonly operation: string;
  /** The fields its body may have besides `after` and `limit`, which the caller checks. */
  readonly fields: readonly string[];
  /** The `limit` of a request that gives none; `Infinity` for all. */
  readonly defaultLimit: number;
}

const SESSIONS_LIST: PagedList = { operation: OPERATION, fields: [], defaultLimit: DEFAULT_SESSION_PAGE };

/**
 * Checks a `sessions.list` body (or, with `list`, another paged list's): no field but `after` (a string of at most
 * 128 characters), `limit` (a whole number from 1 to {@link MAX_SESSION_PAGE}) and the list's own; a
 * `ValidationError` naming the field otherwise.
 */
export function pageRequestOf(body: RequestBody, list: PagedList = SESSIONS_LIST): PageRequest {
  assertFields(body, ['after', 'limit', ...list.fields], list.operation);
  const after = optionalString(body, 'after');
  if (after !== undefined && after.length > MAX_AFTER_LENGTH)
    throw new ValidationError(
      `field 'after' must be at most ${MAX_AFTER_LENGTH} characters, an id's longest, got ${after.length}`,
      { details: { field: 'after', constraint: 'maxLength', limit: MAX_AFTER_LENGTH } },
    );
  const limit = body.limit;
  if (isLeftOut(limit)) return { after, limit: list.defaultLimit };
  if (typeof limit === 'number' && Number.isSafeInteger(limit) && limit >= 1 && limit <= MAX_SESSION_PAGE)
    return { after, limit };
  // A number is shown (2.5, 0), anything else named by its kind (a string, null).
  const got = typeof limit === 'number' ? String(limit) : kindOf(limit);
  throw new ValidationError(`field 'limit' must be a whole number from 1 to ${MAX_SESSION_PAGE}, got ${got}`, {
    details: { field: 'limit', constraint: 'range', min: 1, max: MAX_SESSION_PAGE },
  });
}

/**
 * Checks the options of `listSessions` as the wire checks a body ({@link pageRequestOf}); `undefined` is `{}`, and a
 * bag that is no object is refused.
 */
export function listOptionsOf(options: unknown): PageRequest {
  if (options === undefined) return pageRequestOf({});
  assertKindReadable(options, 'listSessions options');
  if (typeof options !== 'object' || options === null || Array.isArray(options))
    throw new ValidationError('listSessions options must be an object', { details: { constraint: 'type' } });
  return pageRequestOf(options as RequestBody);
}

/**
 * The page of `sorted` (ids in code-point order) strictly after `after`, of at most `limit` ids.
 * @example
 * pageOf(['a', 'b', 'c'], { after: 'a', limit: 1 }) // { ids: ['b'], next: 'b' }
 */
export function pageOf(sorted: readonly string[], { after, limit }: PageRequest): SessionPage {
  const from = after === undefined ? 0 : indexAfter(sorted, after);
  const ids = sorted.slice(from, from + limit);
  return from + limit < sorted.length ? { ids, next: ids.at(-1)! } : { ids };
}

/**
 * The index of the first id of `sorted` (in code-point order) strictly after `after`; `sorted.length` when none is.
 * A binary search: the pages of a long list stay cheap.
 */
export function indexAfter(sorted: readonly string[], after: string): number {
  // Ids are ASCII, so comparing UTF-16 code units (as `>` does) orders them by code point, against any `after`.
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (sorted[middle]! > after) high = middle;
    else low = middle + 1;
  }
  return low;
}

/** A page as a reply carries it, checked: a malformed one (no node sends it) is an `InternalError`. */
export function pageFromWire(result: unknown): SessionPage {
  const page = result as Partial<Record<'ids' | 'next', unknown>> | null;
  const ids = page?.ids;
  const next = page?.next;
  if (
    !Array.isArray(ids) ||
    !ids.every((id) => typeof id === 'string') ||
    !(next === undefined || typeof next === 'string')
  )
    throw new InternalError('malformed sessions.list reply from a tether node');
  return next === undefined ? { ids: ids as string[] } : { ids: ids as string[], next };
}
