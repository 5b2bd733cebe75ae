/**
 * Removing what a session leaves in the store: every key under `<session>.`, deleted ones included, purged with its
 * history. Each key is purged at the revision it was listed at (compare-and-set), so a write that lands after the
 * listing survives it: a deletion that must not take a re-created session's new variables with it checks, between
 * listing and purging, that the session is still gone (`proceed`), and then only purges what it listed.
 * @module
 */
import { StoreConflictError } from '../errors.js';
import type { Store } from '../store/store.js';

/** Options of {@link purgeSessionKeys}. */
export interface PurgeSessionOptions {
  /** The revision each key must still be at (a live variable's as its process last saw it); else the listed one. */
  readonly expected?: ReadonlyMap<string, number>;
  /** Asked once the keys are listed, before anything is purged: `false` purges nothing. */
  readonly proceed?: () => Promise<boolean>;
  /** The keys to purge, listed earlier by `store.keys`; listed now when left out. */
  readonly keys?: readonly { readonly key: string; readonly revision: number }[];
  /** What an earlier pass purged (its {@link PurgeOutcome.purged}): a key still at its purge marker is passed by. */
  readonly purged?: ReadonlyMap<string, number>;
}

/** What a purge pass did. */
export interface PurgeOutcome {
  /** The keys purged, each with its purge's revision. */
  readonly purged: ReadonlyMap<string, number>;
  /** Keys written since they were listed (or since `expected`): left as they are. */
  readonly changed: readonly string[];
}

/**
 * Purges every key of `sessionId` in `store`, each at the revision it was listed at (or its `expected` one).
 * @example
 * await purgeSessionKeys(store, 'chat-1');
 */
export async function purgeSessionKeys(
  store: Store<unknown>,
  sessionId: string,
  options: PurgeSessionOptions = {},
): Promise<PurgeOutcome> {
  const listed = options.keys ?? (await store.keys(`${sessionId}.`));
  const keys = listed.filter(({ key, revision }) => options.purged?.get(key) !== revision);
  const purged = new Map<string, number>();
  const changed: string[] = [];
  if (keys.length === 0 || (options.proceed && !(await options.proceed()))) return { purged, changed };
  const outcomes = await Promise.allSettled(
    keys.map(({ key, revision }) => store.purge(key, options.expected?.get(key) ?? revision)),
  );
  outcomes.forEach((outcome, i) => {
    const { key } = keys[i]!;
    if (outcome.status === 'fulfilled') purged.set(key, outcome.value);
    else if (outcome.reason instanceof StoreConflictError) changed.push(key);
    else throw outcome.reason;
  });
  return { purged, changed };
}
