/**
 * Grouping store changes by the session they belong to, for the router that hands each session process its own.
 * @module
 */
import type { StoreChange } from './store.js';

/** The session a store key belongs to: the part before its first dot; `''` for a key of none. */
export function sessionOfKey(key: string): string {
  const dot = key.indexOf('.');
  return dot <= 0 ? '' : key.slice(0, dot);
}

/**
 * `changes` by session, in the order given within each; keys of no session are left out. Each group is a new array,
 * never `changes` itself, so whoever is handed a group may freeze it (a session process is sent its group frozen) and
 * leave the store's own list alone.
 */
export function changesBySession<V>(changes: readonly StoreChange<V>[]): Iterable<[string, readonly StoreChange<V>[]]> {
  // One change, the usual case off a quiet watch, needs no map.
  if (changes.length === 1) {
    const change = changes[0]!;
    const id = sessionOfKey(change.key);
    return id === '' ? [] : [[id, [change]]];
  }
  const bySession = new Map<string, StoreChange<V>[]>();
  for (const change of changes) {
    const id = sessionOfKey(change.key);
    if (id === '') continue;
    const group = bySession.get(id);
    if (group) group.push(change);
    else bySession.set(id, [change]);
  }
  return bySession;
}
