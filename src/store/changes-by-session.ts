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

/** `changes` by session, in the order given within each; keys of no session are left out. */
export function changesBySession<V>(changes: readonly StoreChange<V>[]): Iterable<[string, readonly StoreChange<V>[]]> {
  // One change, the usual case off a quiet watch, needs no map.
  if (changes.length === 1) {
    const id = sessionOfKey(changes[0]!.key);
    return id === '' ? [] : [[id, changes]];
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
