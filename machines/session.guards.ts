/**
 * The session machine's guards: pure reads of its context and the event at hand. Apart from the machine so that its
 * definition reads as its states and transitions; the machine names them in `setup`.
 * @module
 */
import type { GuardArgs } from 'xstate';
import { isNameByName, mayGoNameByName } from '../src/session/name-by-name.js';
import { MAX_WRITE_ATTEMPTS } from './session.writes.js';
import type { SessionMachineContext, SessionMachineEvent } from './session.types.js';

/** What a session guard reads. */
type SessionGuardArgs = GuardArgs<SessionMachineContext, SessionMachineEvent>;

/** Whether the store refused a write's value (`store.failed` with `validation_failed`): it wrote nothing of it. */
function refusedByStore(event: SessionMachineEvent): boolean {
  return event.type === 'store.failed' && event.error.code === 'validation_failed';
}

/** The guards the session machine's `setup` names, by the names its transitions use. */
export const sessionGuards = {
  hasQueuedWrite: ({ context }) => context.queue.length > 0,
  /** The write in flight is the last one queued, no stop waits, and it is no batch going on name by name. */
  endsIdle: ({ context }) => context.queue.length === 1 && context.pendingStop === null && !context.inFlight?.next,
  stopPending: ({ context }) => context.pendingStop?.ending === 'stopped',
  endsDeleted: ({ event }) => event.type === 'session.end' && event.reason === 'deleted',
  deletePending: ({ context }) => context.pendingStop?.ending === 'deleted',
  expiryPending: ({ context }) => context.pendingStop?.ending === 'expired',
  mayRetry: ({ context }) => context.attempts < MAX_WRITE_ATTEMPTS,
  /** The write in flight only confirmed its plan's refusals (`WritePlan.confirmFirst`): it is planned again. */
  replans: ({ context }) => context.inFlight?.replan === true,
  /** A non-atomic batch that lost a race as one commit: it goes on name by name (src/session/name-by-name.ts). */
  goesNameByName: ({ context }) => context.queue.first !== undefined && mayGoNameByName(context.queue.first.request),
  /** The write at the head is a batch carried on name by name. */
  nameByName: ({ context }) => context.queue.first !== undefined && isNameByName(context.queue.first.request),
  /**
   * The store refused a value of a non-atomic batch written as one commit (a value over a KV store's size limit,
   * which the planner cannot see): nothing of it was written, and it goes on name by name, where that name alone is
   * refused.
   */
  storeRefusedBatch: ({ context, event }) =>
    refusedByStore(event) && context.queue.first !== undefined && mayGoNameByName(context.queue.first.request),
  /** Name by name, the store refused the value of the name in flight. */
  storeRefusedName: ({ context, event }) =>
    refusedByStore(event) && context.queue.first !== undefined && isNameByName(context.queue.first.request),
  /** Whether the session is still idle for its TTL when the expiry arrives (src provides the clock). */
  idleExpired: () => true,
} satisfies Record<string, (args: SessionGuardArgs) => boolean>;
