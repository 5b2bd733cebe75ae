/**
 * The module process: one variable-aware LLM module of a session. Each execution goes
 * `idle → syncing → executing → idle`: syncing re-reads every bound variable from one snapshot of the session
 * (and swaps the program when a bound `module` variable names another type), executing runs the program with
 * per-call options built from that snapshot. Executions that arrive while busy wait in the mailbox, in order;
 * XState would drop events a state does not handle, so every state accepts them. An idle module the node lets go
 * (hibernation) ends in `hibernated`, a final state of its own, not by a stop: an inspector tells it from a module
 * stopped for good (`xstate.stop`). The node wakes it in a new process at its next use.
 *
 * No I/O here: the work is done by `moduleRunner`, an actor that `src/modules` provides. It is invoked once for
 * the life of the process and told what to do (`sync`, `execute`, `abort`), rather than one actor invoked per
 * sync and per execution: creating, starting and stopping two child actors was a fifth of an execution's own
 * cost. Its answers name their execution, and only the current execution's answers are taken: a late answer of
 * a cancelled one is dropped. Stopping the process stops the runner, which aborts the request in flight.
 * @module
 */
import { assign, enqueueActions, fromCallback, sendTo, setup } from 'xstate';
import type { SerializedError } from '../src/errors.js';
import { deepFreeze } from '../src/variables/json-value.js';
import { emptyMailbox } from './mailbox.js';
import { errorReply, okReply } from './protocol.js';
import type {
  Execution,
  ExecutionResult,
  ModuleDescription,
  ModuleEmittedEvent,
  ModuleMachineContext,
  ModuleMachineEvent,
  ModuleMachineInput,
  RunnerCommand,
  RunnerInput,
} from './module.types.js';

// The machine's vocabulary stays importable from the machine, where its users have always found it.
export type * from './module.types.js';

function aborted(context: ModuleMachineContext, executionId: string, reason: string | undefined): SerializedError {
  // Frozen, as the runner's errors are: the event's listeners and the caller share it.
  return deepFreeze({
    code: 'execution_aborted',
    message: `execution '${executionId}' of module '${context.moduleId}' was aborted${reason ? `: ${reason}` : ''}`,
    // The reason in a field of its own too: a subscriber tells a timeout (`timed out`) from a cancel without parsing.
    details: { moduleId: context.moduleId, executionId, ...(reason ? { reason } : {}) },
  });
}

/**
 * The refusal of an execution whose id one queued or running here has already: a cancel, or the timeout of either,
 * names the id, and would stop whichever of the two it found first.
 */
function heldAlready(context: ModuleMachineContext, executionId: string): SerializedError {
  return deepFreeze({
    code: 'already_exists',
    message:
      `execution '${executionId}' of module '${context.moduleId}' already exists: one of that id is queued or ` +
      'running; give each execution an id of its own',
    details: { kind: 'execution', id: executionId, moduleId: context.moduleId, executionId },
  });
}

/** The module process machine. */
export const moduleMachine = setup({
  types: {
    input: {} as ModuleMachineInput,
    context: {} as ModuleMachineContext,
    events: {} as ModuleMachineEvent,
    emitted: {} as ModuleEmittedEvent,
  },
  actors: {
    /** Syncs and runs the executions it is told to; answers with {@link RunnerEvent}s. Stopping it aborts. */
    moduleRunner: fromCallback<RunnerCommand, RunnerInput>(({ sendBack, receive }) => {
      receive((command) => {
        if (command.type === 'abort') return;
        const error = { code: 'internal_error', message: 'moduleRunner is provided by src/modules' };
        sendBack({ type: command.type === 'sync' ? 'sync.failed' : 'execution.failed', run: command.run, error });
      });
    }),
  },
  actions: {
    // Each execution, and each mailbox, frozen: the runner reads the very record a snapshot shows, so an inspector
    // that put redacted inputs in its place (or spliced the mailbox) would have changed what runs.
    enqueue: assign({
      mailbox: ({ context, event }) =>
        event.type === 'execute'
          ? context.mailbox.with(
              Object.freeze({ executionId: event.executionId, callId: event.callId, inputs: event.inputs }),
            )
          : context.mailbox,
    }),
    refuseHeldId: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'execute' || event.callId === undefined) return;
      enqueue.emit(errorReply(event.callId, heldAlready(context, event.executionId)));
    }),
    takeNext: assign({
      current: ({ context }) => context.mailbox.first ?? null,
      mailbox: ({ context }) => context.mailbox.rest(),
      run: ({ context }) => context.run + 1,
    }),
    cancelQueued: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'cancel') return;
      const queued = context.mailbox.find(event.executionId);
      if (queued) {
        // Ended before it started, but ended all the same: counted and announced as a running one's cancel is.
        const error = aborted(context, queued.executionId, event.reason);
        enqueue.assign({
          mailbox: context.mailbox.without(queued.executionId),
          failed: context.failed + 1,
        });
        if (queued.callId !== undefined) enqueue.emit(errorReply(queued.callId, error));
        enqueue.emit({ type: 'module.failed', moduleId: context.moduleId, executionId: queued.executionId, error });
      }
      if (event.callId !== undefined) enqueue.emit(okReply(event.callId, Boolean(queued)));
    }),
    abortCurrent: enqueueActions(({ context, event, enqueue }) => {
      const current = context.current;
      if (event.type !== 'cancel' || !current) return;
      const error = aborted(context, current.executionId, event.reason);
      enqueue.sendTo('runner', { type: 'abort', run: context.run, reason: error.message } satisfies RunnerCommand);
      if (current.callId !== undefined) enqueue.emit(errorReply(current.callId, error));
      enqueue.emit({ type: 'module.failed', moduleId: context.moduleId, executionId: current.executionId, error });
      if (event.callId !== undefined) enqueue.emit(okReply(event.callId, true));
      enqueue.assign({ current: null, failed: context.failed + 1 });
    }),
    finish: enqueueActions(({ context, event, enqueue }) => {
      const current = context.current;
      if (event.type !== 'execution.done' || !current) return;
      const refused = context.syncFailed?.run === context.run ? context.syncFailed.error : undefined;
      // Frozen (its output and provenance already are): the caller and every listener get this one object.
      const result: ExecutionResult = Object.freeze(
        refused === undefined
          ? { ...event.result, executionId: current.executionId, moduleId: context.moduleId }
          : { ...event.result, executionId: current.executionId, moduleId: context.moduleId, syncFailed: refused },
      );
      enqueue.emit({ type: 'module.result', result });
      if (current.callId !== undefined) enqueue.emit(okReply(current.callId, result));
      enqueue.assign({ current: null, completed: context.completed + 1 });
    }),
    fail: enqueueActions(({ context, event, enqueue }) => {
      const current = context.current;
      if (event.type !== 'execution.failed' || !current) return;
      enqueue.emit({
        type: 'module.failed',
        moduleId: context.moduleId,
        executionId: current.executionId,
        error: event.error,
      });
      if (current.callId !== undefined) enqueue.emit(errorReply(current.callId, event.error));
      enqueue.assign({ current: null, failed: context.failed + 1 });
    }),
    /**
     * Notes the current execution's sync as abandoned: it is cancelled while the sync runs on. Frozen as the mailbox
     * is: an inspector that dropped an entry from the list it was shown would have silenced that sync's late answer.
     */
    abandonSync: assign({
      abandonedSyncs: ({ context }) =>
        context.current
          ? Object.freeze([
              ...context.abandonedSyncs,
              Object.freeze({ run: context.run, executionId: context.current.executionId }),
            ])
          : context.abandonedSyncs,
    }),
    /**
     * Reports the late answer of an abandoned sync: what it applied (new values, another program type) is what later
     * executions run on, and no later sync would report it again. Its type is the module's unless a later execution's
     * sync has begun, whose own answer says the type then.
     */
    reportAbandonedSync: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'sync.done' && event.type !== 'sync.failed') return;
      const abandoned = context.abandonedSyncs.find((sync) => sync.run === event.run);
      if (!abandoned) return;
      const { executionId } = abandoned;
      enqueue.assign({ abandonedSyncs: Object.freeze(context.abandonedSyncs.filter((sync) => sync !== abandoned)) });
      if (event.type === 'sync.failed') {
        enqueue.emit({ type: 'module.syncFailed', moduleId: context.moduleId, executionId, error: event.error });
        return;
      }
      if (context.run === abandoned.run) enqueue.assign({ moduleType: event.outcome.moduleType });
      enqueue.emit({ type: 'module.synced', moduleId: context.moduleId, executionId, outcome: event.outcome });
    }),
    /** Reports a refused sync as an event; the run's result will carry the first of them. */
    noteSyncFailed: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'sync.failed' || !context.current) return;
      if (context.syncFailed?.run !== context.run)
        enqueue.assign({ syncFailed: Object.freeze({ run: context.run, error: event.error }) });
      enqueue.emit({
        type: 'module.syncFailed',
        moduleId: context.moduleId,
        executionId: context.current.executionId,
        error: event.error,
      });
    }),
    forwardDelta: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'execution.delta' || !context.current) return;
      enqueue.emit({
        type: 'module.delta',
        moduleId: context.moduleId,
        executionId: context.current.executionId,
        field: event.field,
        delta: event.delta,
        ...(event.restart ? { restart: true as const } : {}),
      });
    }),
  },
  guards: {
    hasQueued: ({ context }) => context.mailbox.length > 0,
    /** An execution of the same id is running or queued (a raw client's careless id: the handles make UUIDs). */
    holdsExecutionId: ({ context, event }) =>
      event.type === 'execute' &&
      (context.current?.executionId === event.executionId || context.mailbox.has(event.executionId)),
    cancelsCurrent: ({ context, event }) =>
      event.type === 'cancel' && context.current?.executionId === event.executionId,
    /** A runner answer about the current execution (not a late one about a cancelled execution). */
    isCurrent: ({ context, event }) => 'run' in event && context.current !== null && event.run === context.run,
    /** A runner's answer to the sync of an execution cancelled while it ran. */
    isAbandonedSync: ({ context, event }) =>
      'run' in event && context.abandonedSyncs.some((sync) => sync.run === event.run),
  },
}).createMachine({
  id: 'module',
  context: ({ input }) => ({
    moduleId: input.moduleId,
    sessionId: input.sessionId,
    moduleType: input.moduleType,
    signature: input.signature,
    mailbox: emptyMailbox(),
    current: null,
    completed: input.completed ?? 0,
    failed: input.failed ?? 0,
    run: 0,
    syncFailed: null,
    abandonedSyncs: Object.freeze([]),
  }),
  initial: 'idle',
  invoke: {
    id: 'runner',
    src: 'moduleRunner',
    input: ({ context }) => ({ sessionId: context.sessionId, moduleId: context.moduleId }),
  },
  on: {
    execute: [{ guard: 'holdsExecutionId', actions: 'refuseHeldId' }, { actions: 'enqueue' }],
    cancel: { actions: 'cancelQueued' },
    // The late answer of a cancelled execution's sync (the current execution's answers are taken by the states).
    'sync.done': { guard: 'isAbandonedSync', actions: 'reportAbandonedSync' },
    'sync.failed': { guard: 'isAbandonedSync', actions: 'reportAbandonedSync' },
    describe: {
      actions: enqueueActions(({ context, event, self, enqueue }) => {
        if (event.callId === undefined) return;
        const state = self.getSnapshot().value as ModuleDescription['state'];
        const { moduleId, sessionId, moduleType, signature, completed, failed } = context;
        const description: ModuleDescription = {
          moduleId,
          sessionId,
          moduleType,
          signature,
          state,
          ...(context.current ? { executionId: context.current.executionId } : {}),
          queued: context.mailbox.length,
          completed,
          failed,
        };
        enqueue.emit(okReply(event.callId, description));
      }),
    },
  },
  states: {
    idle: {
      always: { guard: 'hasQueued', target: 'syncing', actions: 'takeNext' },
      // Only from idle, where the mailbox is empty: a busy module is not put to sleep.
      on: { 'module.hibernate': { target: 'hibernated' } },
    },
    syncing: {
      entry: sendTo('runner', ({ context }) => ({ type: 'sync' as const, run: context.run })),
      on: {
        cancel: [
          { guard: 'cancelsCurrent', target: 'idle', actions: ['abandonSync', 'abortCurrent'] },
          { actions: 'cancelQueued' },
        ],
        'sync.done': {
          guard: 'isCurrent',
          target: 'executing',
          actions: enqueueActions(({ context, event, enqueue }) => {
            enqueue.assign({ moduleType: event.outcome.moduleType });
            const executionId = (context.current as Execution).executionId;
            enqueue.emit({ type: 'module.synced', moduleId: context.moduleId, executionId, outcome: event.outcome });
          }),
        },
        // A failed sync is reported, as an event and in the execution's result, and the execution still runs, with
        // the last good values.
        'sync.failed': { guard: 'isCurrent', target: 'executing', actions: 'noteSyncFailed' },
      },
    },
    executing: {
      entry: sendTo('runner', ({ context }) => ({
        type: 'execute' as const,
        run: context.run,
        execution: context.current as Execution,
      })),
      on: {
        'execution.delta': { guard: 'isCurrent', actions: 'forwardDelta' },
        // A sync between the steps of a multi-step program was refused; the next step runs with the last good values.
        'sync.failed': { guard: 'isCurrent', actions: 'noteSyncFailed' },
        // One changed a value: announced, as the sync before the execution is, or no event would ever tell of it
        // (the next execution's sync finds it applied already).
        'sync.done': {
          guard: 'isCurrent',
          actions: enqueueActions(({ context, event, enqueue }) => {
            const executionId = (context.current as Execution).executionId;
            enqueue.emit({ type: 'module.synced', moduleId: context.moduleId, executionId, outcome: event.outcome });
          }),
        },
        'execution.done': { guard: 'isCurrent', target: 'idle', actions: 'finish' },
        'execution.failed': { guard: 'isCurrent', target: 'idle', actions: 'fail' },
        // The runner is told to abort the request in flight.
        cancel: [{ guard: 'cancelsCurrent', target: 'idle', actions: 'abortCurrent' }, { actions: 'cancelQueued' }],
      },
    },
    hibernated: { type: 'final' },
  },
});

/** The module machine's type, for `provide` and for actors built from it. */
export type ModuleMachine = typeof moduleMachine;
