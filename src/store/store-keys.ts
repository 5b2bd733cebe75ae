/**
 * Key and prefix rules shared by every store, so the memory store refuses exactly what a JetStream KV bucket
 * would refuse (a key becomes a NATS subject token sequence; a prefix becomes a `prefix.>` filter), and the check
 * of what else a write carries (a delete's `updatedBy`).
 * @module
 */
import { ValidationError } from '../errors.js';
import { assertOptionKeys, optionKeys } from '../option-keys.js';
import { kindOf } from '../variables/failure.js';
import type { DeleteOptions, StoreWrite } from './store.js';
import { printable } from '../printable.js';

const KEY = /^[A-Za-z0-9_=/-]+(?:\.[A-Za-z0-9_=/-]+)*$/;

/**
 * The longest key or prefix: a key is part of a NATS subject (`$KV.<bucket>.<key>`), and a protocol line longer
 * than the server's control line (4 KiB by default) makes the server drop the connection, everything else on it too.
 */
export const MAX_STORE_KEY_LENGTH = 1024;

/**
 * Whether `key` is dot-joined `[A-Za-z0-9_=/-]` tokens, at most 1024 characters: one a store can read and write. A
 * KV bucket's stream may hold others, published around the store (any subject under the bucket's is taken).
 */
export function isStoreKey(key: unknown): key is string {
  return typeof key === 'string' && key.length <= MAX_STORE_KEY_LENGTH && KEY.test(key);
}

/** Throws a {@link ValidationError} unless `key` is dot-joined `[A-Za-z0-9_=/-]` tokens, at most 1024 characters. */
export function assertStoreKey(key: string): void {
  if (typeof key !== 'string' || !KEY.test(key)) {
    throw new ValidationError(`invalid store key '${printable(key)}': expected [A-Za-z0-9_=/-] tokens joined by dots`, {
      details: { key },
    });
  }
  assertKeyLength('key', key);
}

function assertKeyLength(what: 'key' | 'prefix', key: string): void {
  if (key.length <= MAX_STORE_KEY_LENGTH) return;
  throw new ValidationError(
    `store ${what} '${key.slice(0, 40)}…' is too long: ${key.length} characters, at most ${MAX_STORE_KEY_LENGTH}`,
    { details: { [what]: key.slice(0, 40), length: key.length } },
  );
}

/**
 * Throws a {@link ValidationError} unless `revision` is an expected revision (a whole number ≥ 0), or absent where
 * the operation takes none (`optional`): an expected revision a store cannot compare is a caller's mistake, which
 * must neither skip the compare-and-set nor pass for a conflict.
 */
export function assertExpectedRevision(key: string, revision: unknown, optional: boolean): void {
  if (revision === undefined && optional) return;
  if (typeof revision === 'number' && Number.isSafeInteger(revision) && revision >= 0) return;
  const got = typeof revision === 'number' ? String(revision) : kindOf(revision);
  throw new ValidationError(
    `the expected revision of a write of store key '${key}' must be a whole number ≥ 0, got ${got}`,
    { details: { key, field: 'expectedRevision', got } },
  );
}

/** Throws a {@link ValidationError} unless `prefix` is empty or a valid key followed by a dot. */
export function assertStorePrefix(prefix: string): void {
  if (prefix === '') return;
  if (typeof prefix !== 'string' || !prefix.endsWith('.') || !KEY.test(prefix.slice(0, -1))) {
    throw new ValidationError(`invalid store prefix '${printable(prefix)}': expected '' or key tokens ending in '.'`, {
      details: { prefix },
    });
  }
  assertKeyLength('prefix', prefix);
}

/**
 * Every prefix a watch or list could use to match `key`: `''`, then each dot-ended leading part
 * (`'a.b.c'` → `['', 'a.', 'a.b.']`). Indexing by these makes a write cost O(depth), not O(watchers).
 */
export function prefixesOf(key: string): string[] {
  const prefixes = [''];
  let dot = key.indexOf('.');
  while (dot !== -1) {
    prefixes.push(key.slice(0, dot + 1));
    dot = key.indexOf('.', dot + 1);
  }
  return prefixes;
}

/**
 * Throws a {@link ValidationError} unless a delete's `updatedBy` is absent or a string: every store reports it
 * back as given, and a reader of a change expects a string there (the KV store could not encode anything else).
 */
export function assertUpdatedBy(key: string, updatedBy: unknown): void {
  if (updatedBy === undefined || typeof updatedBy === 'string') return;
  const got = kindOf(updatedBy);
  throw new ValidationError(`the updatedBy of a delete of store key '${key}' must be a string, got ${got}`, {
    details: { key, got },
  });
}

/** The keys {@link DeleteOptions} takes: a misspelled `updatedBy` read as absent would name nobody, silently. */
const DELETE_KEYS = optionKeys<DeleteOptions>({ updatedBy: true });

/** Throws a {@link ValidationError} unless a delete's options are an object of known keys with a string `updatedBy`. */
export function assertDeleteOptions(key: string, options: DeleteOptions): void {
  assertOptionKeys(options, 'delete', DELETE_KEYS);
  assertUpdatedBy(key, options.updatedBy);
}

/**
 * Throws a {@link ValidationError} when a commit writes one key twice: each write's expected revision is
 * checked against the state before the commit, so a second write of the same key could never match. Checks that
 * the writes are an array of objects whose `operation` is `put` or `delete` (the stores write anything else as a
 * delete marker), each write's key and a delete's `updatedBy` too.
 */
export function assertDistinctKeys(writes: readonly StoreWrite<unknown>[]): void {
  if (!Array.isArray(writes)) {
    throw new ValidationError(`a commit takes an array of writes, got ${kindOf(writes)}`, {
      details: { field: 'writes', got: kindOf(writes) },
    });
  }
  const seen = new Set<string>();
  // Indexed: every variable write passes here, and `entries()` would allocate a pair per write.
  for (let index = 0; index < writes.length; index += 1) {
    const write = writes[index];
    assertWriteShape(write, index);
    assertStoreKey(write.key);
    assertExpectedRevision(write.key, write.expectedRevision, false);
    if (write.operation === 'delete') assertUpdatedBy(write.key, write.updatedBy);
    if (seen.has(write.key)) {
      throw new ValidationError(`commit writes store key '${write.key}' more than once`, {
        details: { key: write.key },
      });
    }
    seen.add(write.key);
  }
}

/** Throws a {@link ValidationError} naming its place unless `write` is an object whose `operation` a store knows. */
function assertWriteShape(write: unknown, index: number): asserts write is StoreWrite<unknown> {
  if (typeof write !== 'object' || write === null || Array.isArray(write)) {
    throw new ValidationError(`commit write ${index} must be an object, got ${kindOf(write)}`, {
      details: { field: 'writes', index, got: kindOf(write) },
    });
  }
  const { operation } = write as { readonly operation?: unknown };
  if (operation === 'put' || operation === 'delete') return;
  const got = typeof operation === 'string' ? `'${printable(operation)}'` : kindOf(operation);
  throw new ValidationError(`commit write ${index} has operation ${got}; a write is 'put' or 'delete'`, {
    details: { field: 'operation', index, got },
  });
}

/**
 * Throws a {@link ValidationError} unless a watch's `listener` is a function: one of another kind would fail at
 * every change, each failure told to the store's error reporter, and the watch would look as if it ran.
 */
export function assertStoreListener(listener: unknown): void {
  if (typeof listener === 'function') return;
  throw new ValidationError(`a store watch needs a listener function, got ${kindOf(listener)}`, {
    details: { field: 'listener', got: kindOf(listener) },
  });
}
