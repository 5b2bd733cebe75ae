/**
 * The module process: one variable-aware LLM module of a session. Each execution goes
 * `idle → syncing → executing → idle`: syncing re-reads every bound variable from one snapshot of the session
 * (and swaps the program when a bound `module` variable names another type), executing runs the program with
 * per-call options built from that snapshot. Executions that arrive while busy wait in the mailbox, in order;
 * XState would drop events a state does not handle, so every state accepts them.
 *
 * No I/O here: `syncModule` and `runExecution` are actors that `src/modules` provides.
 * @module
 */
import { assign, enqueueActions, fromCallback, fromPromise, setup } from 'xstate';
import { errorToJSON, type SerializedError } from '../src/errors.js';
import { errorReply, okReply, type ReplyEvent } from './protocol.js';

/** What a module process starts from. */
export interface ModuleMachineInput {
  readonly moduleId: string;
  readonly sessionId: string;
  readonly moduleType: string;
}

/** One execution request. */
export interface Execution {
  readonly executionId: string;
  readonly callId?: string | undefined;
  readonly inputs: Readonly<Record<string, unknown>>;
}

/** What an execution produced, with the version of every variable value it used. */
export interface ExecutionResult {
  readonly executionId: string;
  readonly moduleId: string;
  readonly moduleType: string;
  readonly output: Readonly<Record<string, unknown>>;
  readonly reasoning?: string;
  readonly provenance: Readonly<Record<string, number>>;
}

/** What a sync reports: the (possibly new) module type and `{ attribute: [old, new] }` of what changed. */
export interface SyncOutcome {
  readonly moduleType: string;
  /** The type the program had before this sync swapped it, when it did. */
  readonly swappedFrom?: string;
  readonly changes: Readonly<Record<string, readonly [unknown, unknown]>>;
}

/** The module process's state. */
export interface ModuleMachineContext {
  readonly moduleId: string;
  readonly sessionId: string;
  readonly moduleType: string;
  readonly mailbox: readonly Execution[];
  readonly current: Execution | null;
  readonly completed: number;
  readonly failed: number;
}

/** Events from the running execution. */
export type ExecutionEvent =
  | { readonly type: 'execution.delta'; readonly field: string; readonly delta: string }
  | { readonly type: 'execution.done'; readonly result: Omit<ExecutionResult, 'executionId' | 'moduleId'> }
  | { readonly type: 'execution.failed'; readonly error: SerializedError };

/** Events a module process accepts. */
export type ModuleMachineEvent =
  | {
      readonly type: 'execute';
      readonly callId?: string;
      readonly executionId: string;
      readonly inputs: Readonly<Record<string, unknown>>;
    }
  | { readonly type: 'cancel'; readonly callId?: string; readonly executionId: string; readonly reason?: string }
  | { readonly type: 'describe'; readonly callId?: string }
  | ExecutionEvent;

/** Announced to the outside: results, failures, deltas and syncs. */
export type ModuleEmittedEvent =
  | ReplyEvent
  | { readonly type: 'module.result'; readonly result: ExecutionResult }
  | {
      readonly type: 'module.failed';
      readonly moduleId: string;
      readonly executionId: string;
      readonly error: SerializedError;
    }
  | {
      readonly type: 'module.delta';
      readonly moduleId: string;
      readonly executionId: string;
      readonly field: string;
      readonly delta: string;
    }
  | {
      readonly type: 'module.synced';
      readonly moduleId: string;
      readonly executionId: string;
      readonly outcome: SyncOutcome;
    }
  | {
      readonly type: 'module.syncFailed';
      readonly moduleId: string;
      readonly executionId: string;
      readonly error: SerializedError;
    };

/** What `describe` answers. */
export interface ModuleDescription {
  readonly moduleId: string;
  readonly sessionId: string;
  readonly moduleType: string;
  readonly state: 'idle' | 'syncing' | 'executing';
  readonly queued: number;
  readonly completed: number;
  readonly failed: number;
}

function aborted(context: ModuleMachineContext, executionId: string, reason: string | undefined): SerializedError {
  return {
    code: 'execution_aborted',
    message: `execution '${executionId}' of module '${context.moduleId}' was aborted${reason ? `: ${reason}` : ''}`,
    details: { moduleId: context.moduleId, executionId },
  };
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
    /** Re-reads the bound variables (and the module-type variable) in one snapshot. */
    syncModule: fromPromise<SyncOutcome, { sessionId: string; moduleId: string }>(async () => {
      throw new Error('syncModule is provided by src/modules');
    }),
    /** Runs one execution; sends back deltas, then `execution.done` or `execution.failed`. Stopping it aborts. */
    runExecution: fromCallback<ExecutionEvent, { sessionId: string; moduleId: string; execution: Execution }>(
      ({ sendBack }) => {
        sendBack({
          type: 'execution.failed',
          error: { code: 'internal_error', message: 'runExecution is provided by src/modules' },
        });
      },
    ),
  },
  actions: {
    enqueue: assign({
      mailbox: ({ context, event }) =>
        event.type === 'execute'
          ? [...context.mailbox, { executionId: event.executionId, callId: event.callId, inputs: event.inputs }]
          : context.mailbox,
    }),
    takeNext: assign({
      current: ({ context }) => context.mailbox[0] ?? null,
      mailbox: ({ context }) => context.mailbox.slice(1),
    }),
    cancelQueued: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'cancel') return;
      const queued = context.mailbox.find((execution) => execution.executionId === event.executionId);
      if (queued) {
        enqueue.assign({ mailbox: context.mailbox.filter((execution) => execution !== queued) });
        if (queued.callId !== undefined)
          enqueue.emit(errorReply(queued.callId, aborted(context, queued.executionId, event.reason)));
      }
      if (event.callId !== undefined) enqueue.emit(okReply(event.callId, Boolean(queued)));
    }),
    abortCurrent: enqueueActions(({ context, event, enqueue }) => {
      const current = context.current;
      if (event.type !== 'cancel' || !current) return;
      const error = aborted(context, current.executionId, event.reason);
      if (current.callId !== undefined) enqueue.emit(errorReply(current.callId, error));
      enqueue.emit({ type: 'module.failed', moduleId: context.moduleId, executionId: current.executionId, error });
      if (event.callId !== undefined) enqueue.emit(okReply(event.callId, true));
      enqueue.assign({ current: null, failed: context.failed + 1 });
    }),
    finish: enqueueActions(({ context, event, enqueue }) => {
      const current = context.current;
      if (event.type !== 'execution.done' || !current) return;
      const result: ExecutionResult = { ...event.result, executionId: current.executionId, moduleId: context.moduleId };
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
    forwardDelta: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'execution.delta' || !context.current) return;
      enqueue.emit({
        type: 'module.delta',
        moduleId: context.moduleId,
        executionId: context.current.executionId,
        field: event.field,
        delta: event.delta,
      });
    }),
  },
  guards: {
    hasQueued: ({ context }) => context.mailbox.length > 0,
    cancelsCurrent: ({ context, event }) =>
      event.type === 'cancel' && context.current?.executionId === event.executionId,
  },
}).createMachine({
  id: 'module',
  context: ({ input }) => ({
    moduleId: input.moduleId,
    sessionId: input.sessionId,
    moduleType: input.moduleType,
    mailbox: [],
    current: null,
    completed: 0,
    failed: 0,
  }),
  initial: 'idle',
  on: {
    execute: { actions: 'enqueue' },
    cancel: { actions: 'cancelQueued' },
    describe: {
      actions: enqueueActions(({ context, event, self, enqueue }) => {
        if (event.callId === undefined) return;
        const state = self.getSnapshot().value as ModuleDescription['state'];
        const { moduleId, sessionId, moduleType, completed, failed } = context;
        const description: ModuleDescription = {
          moduleId,
          sessionId,
          moduleType,
          state,
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
    },
    syncing: {
      on: {
        cancel: [{ guard: 'cancelsCurrent', target: 'idle', actions: 'abortCurrent' }, { actions: 'cancelQueued' }],
      },
      invoke: {
        src: 'syncModule',
        input: ({ context }) => ({ sessionId: context.sessionId, moduleId: context.moduleId }),
        onDone: {
          target: 'executing',
          actions: enqueueActions(({ context, event, enqueue }) => {
            enqueue.assign({ moduleType: event.output.moduleType });
            const executionId = context.current?.executionId ?? '';
            enqueue.emit({ type: 'module.synced', moduleId: context.moduleId, executionId, outcome: event.output });
          }),
        },
        // A failed sync is reported and the execution still runs, with the last good values.
        onError: {
          target: 'executing',
          actions: enqueueActions(({ context, event, enqueue }) => {
            const executionId = context.current?.executionId ?? '';
            enqueue.emit({
              type: 'module.syncFailed',
              moduleId: context.moduleId,
              executionId,
              error: errorToJSON(event.error),
            });
          }),
        },
      },
    },
    executing: {
      on: {
        'execution.delta': { actions: 'forwardDelta' },
        'execution.done': { target: 'idle', actions: 'finish' },
        'execution.failed': { target: 'idle', actions: 'fail' },
        // Leaving the state stops the invoked execution, which aborts its request in flight.
        cancel: [{ guard: 'cancelsCurrent', target: 'idle', actions: 'abortCurrent' }, { actions: 'cancelQueued' }],
      },
      invoke: {
        src: 'runExecution',
        input: ({ context }) => ({
          sessionId: context.sessionId,
          moduleId: context.moduleId,
          execution: context.current as Execution,
        }),
      },
    },
  },
});

/** The module machine's type, for `provide` and for actors built from it. */
export type ModuleMachine = typeof moduleMachine;
