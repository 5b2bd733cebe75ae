/**
 * The session process: owns one session's variables as last seen from the store, carries out writes one at a
 * time with compare-and-set, folds in changes that arrive from the store, tells watchers, and expires after
 * an idle TTL.
 *
 * `loading → active.idle ⇄ active.writing → expired | hibernated | stopped | deleted | failed`
 *
 * No I/O here: loading, committing and purging are named actions that `src/session` provides. Reads do not
 * pass through the machine; the session handle reads the snapshot's context, which holds only committed state.
 * Idle expiry arrives as a `session.expire` event from the runtime's sweeper rather than from a timer per
 * session: 100,000 sessions would otherwise hold 100,000 timers, each re-armed on every write. A node whose
 * sessions are shared with other nodes sends `session.hibernate` instead: the process stops, its variables stay
 * (another node may be using them), and the next request wakes it; it never sends it to a session with watchers
 * there, which only its process can feed. A session deleted (or expired across the nodes of a NATS system) is ended
 * by `session.end`, which, like `stop`, lets a write in flight finish first: whoever removes the variables then
 * knows this process writes no more. A non-atomic batch that lost a race as one commit, or one of whose values the
 * store refused (over a KV store's size limit), goes on one name per commit (src/session/name-by-name.ts), and
 * finishes before a stop or an end deferred meanwhile takes effect.
 * @module
 */
import { assign, enqueueActions, setup } from 'xstate';
import { errorToJSON, type SerializedError } from '../src/errors.js';
import { applyStoreChanges } from '../src/session/apply-store-change.js';
import { failedOutcome, isNameByName, mayGoNameByName, nameByName, outcomesOf } from '../src/session/name-by-name.js';
import { plannedRevisions } from '../src/session/write-contention.js';
import { frozenPlan, frozenRequest } from '../src/session/frozen-writes.js';
import { planWrite, refusalChecks, variableKey, type StoreCheck, type WritePlan } from '../src/session/write-plan.js';
import { deleteChange, type StoreChange, type StoreWrite } from '../src/store/store.js';
import type { VariableRecord } from '../src/variables/types.js';
import { errorReply, okReply } from './protocol.js';
import { sessionGuards } from './session.guards.js';
import {
  contentionOf,
  emptyWriteQueue,
  highestRevision,
  revisionOf,
  withNameInFlightFailed,
  withoutUnstarted,
} from './session.writes.js';
import type {
  PendingEnding,
  SessionEmittedEvent,
  SessionMachineContext,
  SessionMachineEvent,
  SessionMachineInput,
  WriteReply,
} from './session.types.js';

// The machine's types (its context, events and emitted events) stay importable from the machine, where its users
// have always found them.
export type * from './session.types.js';

/** The session process machine. */
export const sessionMachine = setup({
  types: {
    input: {} as SessionMachineInput,
    context: {} as SessionMachineContext,
    events: {} as SessionMachineEvent,
    emitted: {} as SessionEmittedEvent,
  },
  actions: {
    /** Lists the session's keys and answers `store.loaded` or `store.loadFailed`. */
    loadVariables: (_, _params: { sessionId: string }) => {},
    /**
     * Commits the writes atomically and answers `store.committed`, `store.conflict` or `store.failed`; `attempt`
     * counts from 1 the tries of the write in flight (a retry that lost again waits a little before it answers).
     */
    commitWrites: (_, _params: { writes: readonly StoreWrite<VariableRecord>[]; attempt: number }) => {},
    /**
     * Reads each key's last revision and answers `store.committed` (no revisions) when each is still where the check
     * expects it, `store.conflict` with their current state otherwise, or `store.failed`.
     */
    confirmUnchanged: (_, _params: { checks: readonly StoreCheck[] }) => {},
    /** Deletes the session's variables from the store once it has expired. */
    purgeVariables: (_, _params: { keys: readonly { key: string; revision: number }[] }) => {},
    // The variables and revisions maps are folded in place (see the context); `appliedRevision` moves the snapshot.
    applyChanges: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'store.changed' && event.type !== 'store.conflict') return;
      // What a lost race read is folded in against the plan in flight: a key it found with no message at all (a stream
      // purge from outside) drops what the view held there, if the view still holds it where the write expected it.
      const planned =
        event.type === 'store.conflict' && context.inFlight ? plannedRevisions(context.inFlight) : undefined;
      const announced = applyStoreChanges(context, context.sessionId, event.changes, planned);
      enqueue.assign({ appliedRevision: highestRevision(context.appliedRevision, event.changes) });
      for (const change of announced) enqueue.emit({ type: 'variable.changed', sessionId: context.sessionId, change });
    }),
    applyChangesSilently: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'store.changed') return;
      applyStoreChanges(context, context.sessionId, event.changes);
      enqueue.assign({ appliedRevision: highestRevision(context.appliedRevision, event.changes) });
    }),
    applyLoaded: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'store.loaded') return;
      const changes = event.entries.map((entry) => ({ operation: 'put' as const, ...entry }));
      applyStoreChanges(context, context.sessionId, changes);
      enqueue.assign({ appliedRevision: highestRevision(context.appliedRevision, changes) });
    }),
    // Each queued write, its request and each queue frozen (frozen-writes.ts): a snapshot shows these very objects,
    // and an inspector that redacted a queued value or trimmed the queue it was shown had changed what is written.
    // The session's own sender freezes the request before the event is inspected; freezing it again costs nothing.
    enqueueWrite: assign({
      queue: ({ context, event }) => {
        if (event.type !== 'write') return context.queue;
        const request = frozenRequest(event.request);
        return context.queue.with(Object.freeze({ callId: event.callId, request, sent: request }));
      },
    }),
    finishWrite: enqueueActions(({ context, event, enqueue }) => {
      const plan = context.inFlight;
      const head = context.queue.first;
      if (event.type !== 'store.committed' || !plan || !head) return;
      if (plan.refusal) {
        // The store confirmed what the refusal was judged on.
        enqueue.assign({ queue: context.queue.rest(), inFlight: null, attempts: 0 });
        if (head.callId !== undefined) enqueue.emit(errorReply(head.callId, plan.refusal));
        return;
      }
      const changes = plan.writes.map((write, index): StoreChange<VariableRecord> => {
        const revision = event.revisions[index] ?? 0;
        if (write.operation === 'put') return { operation: 'put', key: write.key, value: write.value, revision };
        // Who deleted goes to watchers as it goes with the marker (a delete names nobody without it).
        return deleteChange(write.key, revision, write.updatedBy);
      });
      const announced = applyStoreChanges(context, context.sessionId, changes);
      const revision = revisionOf(head, event.revisions);
      // A batch carried on name by name goes on with its next name; its caller is answered once it is done.
      enqueue.assign({
        appliedRevision: highestRevision(context.appliedRevision, changes),
        queue: plan.next
          ? context.queue.withFirst(Object.freeze({ ...head, request: plan.next, revision }))
          : context.queue.rest(),
        inFlight: null,
        attempts: 0,
      });
      for (const change of announced) enqueue.emit({ type: 'variable.changed', sessionId: context.sessionId, change });
      if (!plan.next && head.callId !== undefined) {
        enqueue.emit(okReply(head.callId, { value: plan.reply, revision } satisfies WriteReply));
      }
    }),
    failWrite: enqueueActions(({ context, event, enqueue }) => {
      const head = context.queue.first;
      const error: SerializedError = event.type === 'store.failed' ? event.error : contentionOf(context, event);
      if (head?.callId !== undefined) {
        // A batch carried on name by name may have written some names already: each name is answered, those not
        // decided yet with the error, never the whole call.
        const reply = isNameByName(head.request)
          ? okReply(head.callId, {
              value: outcomesOf(head.request, failedOutcome(error)),
              revision: revisionOf(head),
            } satisfies WriteReply)
          : errorReply(head.callId, error);
        enqueue.emit(reply);
      }
      enqueue.assign({ queue: context.queue.rest(), inFlight: null, attempts: 0 });
    }),
    /** Drops a queued write whose caller stopped waiting, unless it has started (see {@link hasStarted}). */
    withdrawWrite: assign({
      queue: ({ context, event }) =>
        event.type === 'write.withdraw' ? withoutUnstarted(context, event.request) : context.queue,
    }),
    /** The batch lost a race as one commit, which wrote nothing of it: from now on it goes one name per commit. */
    goNameByName: assign({
      queue: ({ context }) => {
        const head = context.queue.first;
        if (!head || !mayGoNameByName(head.request)) return context.queue;
        return context.queue.withFirst(Object.freeze({ ...head, request: nameByName(head.request) }));
      },
      attempts: 0,
    }),
    /** Name by name, the store refused the name in flight (over its size limit): it alone is answered so. */
    refuseName: assign({
      queue: ({ context, event }) =>
        event.type === 'store.failed' ? withNameInFlightFailed(context, event.error) : context.queue,
      attempts: 0,
    }),
    /** Name by name, the name in flight lost every race: it alone is answered with the conflict, the batch goes on. */
    giveUpName: assign({
      queue: ({ context, event }) => withNameInFlightFailed(context, contentionOf(context, event)),
      attempts: 0,
    }),
    rejectQueued: enqueueActions(
      (
        { context, enqueue },
        params: { code: 'session_stopped' | 'session_expired' | 'session_not_found'; why: string },
      ) => {
        const why = {
          code: params.code,
          message: `session '${context.sessionId}' ${params.why}`,
          details: { sessionId: context.sessionId },
        };
        for (const queued of context.queue)
          if (queued.callId !== undefined) enqueue.emit(errorReply(queued.callId, why));
        enqueue.assign({ queue: emptyWriteQueue() });
      },
    ),
    recordLoadFailure: assign({ failure: ({ event }) => (event.type === 'store.loadFailed' ? event.error : null) }),
    replyStopped: enqueueActions(({ context, event, enqueue }) => {
      if (event.type === 'stop' && event.callId !== undefined) enqueue.emit(okReply(event.callId, true));
      if (context.pendingStop?.callId) enqueue.emit(okReply(context.pendingStop.callId, true));
    }),
    deferStop: assign({
      pendingStop: ({ context, event }) => {
        const ending: PendingEnding = event.type === 'session.end' ? event.reason : 'stopped';
        // A deletion outranks a stop (its callers must not be told the session merely stopped), and an expiry both.
        const rank = { stopped: 0, expired: 1, deleted: 2 } as const;
        const kept =
          context.pendingStop && rank[context.pendingStop.ending] > rank[ending] ? context.pendingStop.ending : ending;
        const callId =
          event.type === 'stop' && event.callId !== undefined ? event.callId : (context.pendingStop?.callId ?? null);
        return Object.freeze({ callId, ending: kept });
      },
    }),
  },
  guards: sessionGuards,
}).createMachine({
  id: 'session',
  context: ({ input }) => ({
    sessionId: input.sessionId,
    ttlMs: input.ttlMs,
    variables: new Map(),
    revisions: new Map(),
    appliedRevision: 0,
    queue: emptyWriteQueue(),
    inFlight: null,
    attempts: 0,
    failure: null,
    pendingStop: null,
  }),
  initial: 'loading',
  on: {
    write: { actions: 'enqueueWrite' },
    'write.withdraw': { actions: 'withdrawWrite' },
    'store.changed': { actions: 'applyChanges' },
    stop: { target: '.stopped' },
    'session.end': [{ guard: 'endsDeleted', target: '.deleted' }, { target: '.expired' }],
  },
  states: {
    loading: {
      entry: { type: 'loadVariables', params: ({ context }) => ({ sessionId: context.sessionId }) },
      on: {
        // Folded in silently: before the load, the session cannot say what the old value was.
        'store.changed': { actions: 'applyChangesSilently' },
        'store.loaded': { target: 'active', actions: 'applyLoaded' },
        'store.loadFailed': { target: 'failed', actions: 'recordLoadFailure' },
      },
    },
    active: {
      initial: 'settling',
      on: {
        'session.expire': { guard: 'idleExpired', target: 'expired' },
        'session.hibernate': { guard: 'idleExpired', target: 'hibernated' },
      },
      states: {
        // Passed through, never rested in: where a write ended (or the load), what comes next is decided once. In a
        // state of its own so that idle has no eventless transitions, whose guards every routed change would check.
        settling: {
          // A batch carried on name by name goes on first: some of its names may be written already, and its caller
          // must hear each name's outcome, not `session_stopped`. Then a stop deferred by a write: the writes queued
          // behind it were never started.
          always: [
            { guard: 'nameByName', target: 'writing' },
            { guard: 'stopPending', target: '#session.stopped' },
            { guard: 'deletePending', target: '#session.deleted' },
            { guard: 'expiryPending', target: '#session.expired' },
            { guard: 'hasQueuedWrite', target: 'writing' },
            { target: 'idle' },
          ],
        },
        idle: {
          // A write arriving at an idle session starts at once (no eventless step in between).
          on: { write: { target: 'writing', actions: 'enqueueWrite' } },
        },
        writing: {
          // Inline so that it can enqueue the named, provided `commitWrites` action with typed params.
          entry: enqueueActions(({ context, enqueue }) => {
            const head = context.queue.first;
            if (!head) return;
            let plan: WritePlan;
            try {
              plan = planWrite(context, head.request);
            } catch (error) {
              // A refusal that rests on the view's state of a key waits for the store to confirm it, on the write's
              // first plan only: a plan after a lost race or a confirmation reads a view the store has just updated.
              const checks = context.attempts === 0 ? refusalChecks(context, head.request, error) : undefined;
              if (checks) {
                const refusal = errorToJSON(error);
                enqueue.assign({
                  inFlight: frozenPlan({ writes: [], reply: undefined, checks, refusal }),
                  attempts: 1,
                });
                enqueue({ type: 'confirmUnchanged', params: { checks } });
                return;
              }
              if (head.callId !== undefined) enqueue.emit(errorReply(head.callId, errorToJSON(error)));
              enqueue.assign({ queue: context.queue.rest(), inFlight: null, attempts: 0 });
              enqueue.raise({ type: 'write.settled' });
              return;
            }
            if (context.attempts === 0 && plan.confirmFirst) {
              // Names refused on the view's state: the store confirms it first, then the batch is planned again
              // (a batch that writes nothing, every name refused, too).
              const checks = plan.confirmFirst;
              enqueue.assign({
                inFlight: frozenPlan({ writes: [], reply: undefined, checks, replan: true }),
                attempts: 1,
              });
              enqueue({ type: 'confirmUnchanged', params: { checks } });
              return;
            }
            if (plan.writes.length === 0 && !plan.checks?.length) {
              if (head.callId !== undefined)
                enqueue.emit(
                  okReply(head.callId, { value: plan.reply, revision: revisionOf(head) } satisfies WriteReply),
                );
              enqueue.assign({ queue: context.queue.rest(), inFlight: null, attempts: 0 });
              enqueue.raise({ type: 'write.settled' });
              return;
            }
            const attempt = context.attempts + 1;
            enqueue.assign({ inFlight: plan, attempts: attempt });
            if (plan.writes.length > 0) enqueue({ type: 'commitWrites', params: { writes: plan.writes, attempt } });
            else enqueue({ type: 'confirmUnchanged', params: { checks: plan.checks ?? [] } });
          }),
          on: {
            stop: { actions: 'deferStop' },
            'session.end': { actions: 'deferStop' },
            // Expiry waits too (the writer has just been active, so the sweeper will ask again if it should).
            'session.expire': {},
            'session.hibernate': {},
            'write.settled': { target: 'settling' },
            'store.committed': [
              // The view held what the batch's refusals were judged on: planned again, they stand.
              { guard: 'replans', target: 'writing', reenter: true },
              // Nothing queued behind it and no stop waiting: where settling would lead, without its eventless guards
              // (every write on the hot path ends here).
              { guard: 'endsIdle', target: 'idle', actions: 'finishWrite' },
              { target: 'settling', actions: 'finishWrite' },
            ],
            'store.conflict': [
              // The store moved under what the batch's refusals were judged on: folded in, planned again whole.
              { guard: 'replans', target: 'writing', reenter: true, actions: 'applyChanges' },
              { guard: 'goesNameByName', target: 'writing', reenter: true, actions: ['applyChanges', 'goNameByName'] },
              { guard: 'mayRetry', target: 'writing', reenter: true, actions: 'applyChanges' },
              { guard: 'nameByName', target: 'writing', reenter: true, actions: ['applyChanges', 'giveUpName'] },
              { target: 'settling', actions: ['applyChanges', 'failWrite'] },
            ],
            'store.failed': [
              { guard: 'storeRefusedBatch', target: 'writing', reenter: true, actions: 'goNameByName' },
              { guard: 'storeRefusedName', target: 'writing', reenter: true, actions: 'refuseName' },
              { target: 'settling', actions: 'failWrite' },
            ],
          },
        },
      },
    },
    expired: {
      type: 'final',
      entry: [
        { type: 'rejectQueued', params: { code: 'session_expired', why: 'expired' } },
        'replyStopped',
        {
          type: 'purgeVariables',
          params: ({ context }) => ({
            keys: [...context.variables.keys()].map((name) => ({
              key: variableKey(context.sessionId, name),
              revision: context.revisions.get(name) ?? 0,
            })),
          }),
        },
      ],
    },
    deleted: {
      type: 'final',
      entry: [{ type: 'rejectQueued', params: { code: 'session_not_found', why: 'was deleted' } }, 'replyStopped'],
    },
    hibernated: {
      type: 'final',
      entry: { type: 'rejectQueued', params: { code: 'session_stopped', why: 'hibernated' } },
    },
    stopped: {
      type: 'final',
      entry: [{ type: 'rejectQueued', params: { code: 'session_stopped', why: 'stopped' } }, 'replyStopped'],
    },
    failed: {
      type: 'final',
      entry: { type: 'rejectQueued', params: { code: 'session_stopped', why: 'failed to load its variables' } },
    },
  },
});

/** The session machine's type, for `provide` and for actors built from it. */
export type SessionMachine = typeof sessionMachine;
