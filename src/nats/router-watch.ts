/**
 * The router's watch of a tracking store (tracking-store.ts): the one watch over every key whose changes a node
 * routes to its session processes. A change counts as applied on the node only once the router handed it on, and
 * what the store's last revision was when the watch went live counts as applied too (no session existed yet).
 * @module
 */
import type { StoreChange, StoreWatch } from '../store/store.js';
import type { VariableRecord } from '../variables/types.js';
import { CommitHoldback } from './commit-holdback.js';

type Changes = readonly StoreChange<VariableRecord>[];

/** Where a router stands: every change up to `revision` was handed on. */
export interface RouterPosition {
  revision: number;
}

/** What a router's watch reports to its store. */
export interface RouterWatchDeps {
  /** Told of each change before the router hands it on. */
  readonly remember: (change: StoreChange<VariableRecord>) => void;
  /** The running routers' positions: a router is in it from its watch's start to its stop. */
  readonly routers: Set<RouterPosition>;
  /** A router moved on. */
  readonly advanced: () => void;
  /** The store's last revision right now, read once the watch is live; left out, 0. */
  readonly lastRevision?: (() => Promise<number>) | undefined;
  /** Told what the listener throws when the hold's bound releases a commit (no delivery is there to report it). */
  readonly report?: ((error: unknown) => void) | undefined;
  /** How long a commit's writes are held for the rest of them. @default COMMIT_HOLD_MS (commit-holdback.ts) */
  readonly commitHoldMs?: number | undefined;
}

/**
 * Opens a router's watch with `open`, handing every batch to `listener` and counting it applied only after. A
 * commit's writes are held back until they can go on together (commit-holdback.ts); the router's position stays
 * below the lowest held one, so a wait for a held revision lasts until the commit is released.
 */
export function openRouterWatch(
  deps: RouterWatchDeps,
  open: (handOver: (changes: Changes) => void) => StoreWatch,
  listener: (changes: Changes) => void,
): StoreWatch {
  const router: RouterPosition = { revision: 0 };
  let stopped = false;
  /** The highest revision delivered (held, dropped or handed on) or otherwise known to be passed. */
  let seen = 0;
  /** Moves the router to `seen`, or just below the lowest held change. */
  const advance = (): void => {
    seen = Math.max(seen, router.revision);
    const lowest = holdback.lowestHeld();
    router.revision = lowest === undefined ? seen : Math.min(seen, lowest - 1);
    deps.advanced();
  };
  const pass = (changes: Changes): void => {
    try {
      if (changes.length === 0) return;
      for (const change of changes) deps.remember(change);
      listener(changes);
    } finally {
      advance();
    }
  };
  // What the bound releases after the delivery that brought it: handed on alone.
  const holdback = new CommitHoldback<StoreChange<VariableRecord>>((changes) => {
    if (stopped) return;
    try {
      pass(changes);
    } catch (error) {
      // Outside any delivery, so nothing else would catch it: a timer's throw would end the process.
      deps.report?.(error);
    }
  }, deps.commitHoldMs);
  const handOver = (changes: Changes): void => {
    for (const change of changes) seen = Math.max(seen, change.revision);
    pass(holdback.take(changes));
  };
  // Watch first: options the inner store refuses must not leave a router behind that never advances.
  const watch = open(handOver);
  deps.routers.add(router);
  const ready = (async () => {
    await watch.ready;
    // Read once the watch is live: a write that landed before it is counted here, any later one is delivered.
    // Read first, a write between the read and the watch would be neither. No session exists yet to miss it.
    const last = deps.lastRevision ? await deps.lastRevision() : 0;
    if (stopped) return;
    seen = Math.max(seen, last);
    advance();
  })();
  return {
    ready,
    stop() {
      stopped = true;
      holdback.stop();
      deps.routers.delete(router);
      watch.stop();
    },
  };
}
