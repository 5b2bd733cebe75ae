/**
 * The router's watch of a tracking store (tracking-store.ts): the one watch over every key whose changes a node
 * routes to its session processes. A change counts as applied on the node only once the router handed it on, and
 * what the store's last revision was when the watch went live counts as applied too (no session existed yet).
 * @module
 */
import type { StoreChange, StoreWatch } from '../store/store.js';
import type { VariableRecord } from '../variables/types.js';

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
}

/** Opens a router's watch with `open`, handing every batch to `listener` and counting it applied only after. */
export function openRouterWatch(
  deps: RouterWatchDeps,
  open: (handOver: (changes: Changes) => void) => StoreWatch,
  listener: (changes: Changes) => void,
): StoreWatch {
  const router: RouterPosition = { revision: 0 };
  let stopped = false;
  const handOver = (changes: Changes): void => {
    let highest = router.revision;
    for (const change of changes) {
      deps.remember(change);
      highest = Math.max(highest, change.revision);
    }
    try {
      listener(changes);
    } finally {
      router.revision = highest;
      deps.advanced();
    }
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
    router.revision = Math.max(router.revision, last);
    deps.advanced();
  })();
  return {
    ready,
    stop() {
      stopped = true;
      deps.routers.delete(router);
      watch.stop();
    },
  };
}
