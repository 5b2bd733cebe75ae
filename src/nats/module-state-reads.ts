/**
 * The reads of a module's state that one `onState` listener of a remote module handle is told from (see
 * module-state-follower.ts). The state is read when the listener is added, and again each time the connection is
 * back: the changes published while it was down are lost (events are at most once), and the listener would keep a
 * stale state. A read that finds no node yet (the nodes are back later than this client) is tried again, as a watch's
 * catch-up read is, until one answers: given up on, the listener kept the state the module left long ago.
 * @module
 */
import type { ModuleDescription } from '../../machines/module.machine.js';
import { ModuleNotFoundError, isSessionGone } from '../errors.js';
import type { ModuleEventSubscription } from './module-event-subscription.js';
import type { ModuleStateFollower } from './module-state-follower.js';
import type { RemoteTransport } from './remote-transport.js';
import { isRetried, RETRY_FIRST_MS, RETRY_MAX_MS, retryPause } from './watch-catch-up.js';

/** The remote module handle whose module's state is read. */
export interface StateReadHandle {
  readonly moduleId: string;
  /** The life the handle is bound to (`undefined`: none). */
  readonly incarnation: string | undefined;
  /** The handle's `describe()`, which reads the state. */
  describe(): Promise<ModuleDescription>;
}

/** The state reads of one `onState` listener; see the module's header. */
export class ModuleStateReads {
  #reading = false;
  /** Asked to read while a read was under way: that read may predate the drop, so another follows it. */
  #again = false;
  #wake: (() => void) | undefined;

  /**
   * `follower`: the listener's, told what a read finds; `subscription`: the listener's events, whose end ends the
   * reads; `released`: whether the handle is done (stopped, given up with its session handle, its client closed).
   */
  constructor(
    private readonly handle: StateReadHandle,
    private readonly follower: ModuleStateFollower,
    private readonly subscription: ModuleEventSubscription,
    private readonly released: () => boolean,
    private readonly transport: RemoteTransport,
  ) {}

  /** Reads the state and tells the follower, tried again until a node answers; one under way is read again after. */
  async read(): Promise<void> {
    const { handle, follower, subscription } = this;
    if (this.#reading) {
      this.#again = true;
      return this.#wake?.();
    }
    this.#reading = true;
    try {
      for (let waitMs = RETRY_FIRST_MS; subscription.active() && !this.released();) {
        this.#again = false;
        try {
          const description = await handle.describe();
          if (!subscription.active()) return;
          if (this.#again) continue;
          return follower.read(description);
        } catch (error) {
          // Unsubscribed meanwhile, by the listener's owner or a stop that overtook the read: nobody to tell.
          if (!subscription.active()) return;
          // Subscribed after its life ended (the end event gone by), or it ended while the connection was down:
          // the read is what tells.
          if (handle.incarnation !== undefined && isSessionGone(error)) return subscription.ended(error);
          // A module that is gone has no state to tell: no failure of the read, as it is none of an embedded handle.
          if (error instanceof ModuleNotFoundError || isSessionGone(error)) return follower.unread();
          if (!isRetried(error)) {
            this.transport.report(error, `reading the state of module ${handle.moduleId}`);
            return follower.unread();
          }
        }
        if (this.#again) continue;
        await retryPause(waitMs, (end) => (this.#wake = end));
        waitMs = Math.min(waitMs * 2, RETRY_MAX_MS);
      }
    } finally {
      this.#reading = false;
    }
  }
}
