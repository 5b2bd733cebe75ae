/**
 * The event subscriptions of one remote module handle's listeners (`on`, `onState`): each ended by the handle's stop
 * and by its session handle's, and each listener called so that its throw is reported rather than raised.
 * @module
 */
import type { ModuleEvent } from './module-events.js';
import {
  subscribeModuleEvents,
  type ModuleEventSubscription,
  type ModuleEventTarget,
} from './module-event-subscription.js';
import type { RemoteTransport } from './remote-transport.js';
import type { SessionHandleScope } from './session-handle-scope.js';
import { callUserCallback } from '../runtime/user-callback.js';

/** The listeners' subscriptions of one remote module handle. */
export class RemoteModuleListeners {
  /** The event subscriptions of this handle's listeners, ended by its `stop` (and its session handle's). */
  readonly #listeners = new Set<() => void>();

  /** `target`: the handle, whose module's events are heard; `scope`: its session handle's. */
  constructor(
    private readonly transport: RemoteTransport,
    private readonly target: ModuleEventTarget,
    private readonly scope: SessionHandleScope,
  ) {}

  /**
   * The events of this module for `deliver` (see module-event-subscription.ts), also ended by this handle's stop and
   * its session handle's; `reconnected`, when given, runs each time the client's connection is back while the
   * subscription lasts (what was published meanwhile never comes).
   */
  subscribe(deliver: (event: ModuleEvent) => unknown, reconnected?: () => void): ModuleEventSubscription {
    let untrack = (): void => {};
    const stopFollowing = reconnected
      ? this.transport.onConnectionChange((change) => {
          if (change === 'reconnected' && events.active()) reconnected();
        })
      : () => {};
    const forget = (): void => {
      this.#listeners.delete(unsubscribe);
      stopFollowing();
      untrack();
    };
    const events = subscribeModuleEvents(
      this.transport,
      this.target,
      (event) => this.guard(() => deliver(event)),
      () => {
        this.scope.endLife();
        forget();
      },
    );
    const unsubscribe = (): void => {
      forget();
      events.unsubscribe();
    };
    this.#listeners.add(unsubscribe);
    // on() and onState() subscribe only while the session handle is not stopped: this does not end it at once.
    untrack = this.scope.track(unsubscribe);
    return { ...events, unsubscribe };
  }

  /** Ends every listener's subscription: the handle stopped. */
  end(): void {
    for (const unsubscribe of this.#listeners) unsubscribe();
    this.#listeners.clear();
  }

  /** Calls a listener, reporting its throw (or an async one's rejection) to the client's `onError`. */
  guard(fn: () => unknown): void {
    callUserCallback(fn, (error) => this.transport.report(error, `listener of module ${this.target.moduleId}`));
  }
}
