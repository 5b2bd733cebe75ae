/**
 * The XState actor a process runs. It differs from XState's own in one thing: an observer subscribed without an
 * error listener (`ref.actor.subscribe((snapshot) => …)`, the usual form) does not make a crash fatal.
 *
 * XState rethrows an actor's error from a `setTimeout` when any of its observers has no error listener, which ends a
 * plain Node process. A process's crash is handled by the runtime (`onError`, its callers, links, monitors and
 * supervisors are told), so an observer that only wanted snapshots must not turn it into an uncaught exception.
 * @module
 */
import { Actor, type AnyActorLogic, type Observer, type SnapshotFrom, type Subscription } from 'xstate';

/** The error listener given to an observer that has none: the runtime has reported the crash already. */
const crashReportedByRuntime = (): void => {};

/** An XState actor whose observers never make its crash an uncaught exception. */
export class ProcessActor<TLogic extends AnyActorLogic> extends Actor<TLogic> {
  override subscribe(observer: Observer<SnapshotFrom<TLogic>>): Subscription;
  override subscribe(
    nextListener?: (snapshot: SnapshotFrom<TLogic>) => void,
    errorListener?: (error: unknown) => void,
    completeListener?: () => void,
  ): Subscription;
  override subscribe(
    nextOrObserver?: Observer<SnapshotFrom<TLogic>> | ((snapshot: SnapshotFrom<TLogic>) => void),
    errorListener?: (error: unknown) => void,
    completeListener?: () => void,
  ): Subscription {
    if (typeof nextOrObserver === 'object' && nextOrObserver !== null) {
      if (nextOrObserver.error) return super.subscribe(nextOrObserver);
      // Bound as XState binds an observer object's methods.
      return super.subscribe(
        nextOrObserver.next?.bind(nextOrObserver),
        crashReportedByRuntime,
        nextOrObserver.complete?.bind(nextOrObserver),
      );
    }
    return super.subscribe(nextOrObserver, errorListener ?? crashReportedByRuntime, completeListener);
  }
}
