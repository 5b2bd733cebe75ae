/**
 * The module machine with its runner supplied: syncs and executions run on the {@link ModuleInstance} of the
 * process, looked up by module id (the program is not plain data, so it lives beside the machine, not in it).
 * @module
 */
import { fromCallback } from 'xstate';
import {
  moduleMachine,
  type RunnerCommand,
  type RunnerEvent,
  type RunnerInput,
} from '../../machines/module.machine.js';
import { errorToJSON, NoProcError, type SerializedError } from '../errors.js';
import type { ModuleInstance } from './module-instance.js';
import { deepFreeze } from '../variables/json-value.js';

/** The programs of a runtime's module processes, by {@link moduleKey}. */
export type ModuleInstances = ReadonlyMap<string, ModuleInstance>;

/** Module ids are unique within a session: the key of a module in a runtime is `<session>.<module>`. */
export function moduleKey(sessionId: string, moduleId: string): string {
  return `${sessionId}.${moduleId}`;
}

function instanceOf(instances: ModuleInstances, input: RunnerInput): ModuleInstance {
  const instance = instances.get(moduleKey(input.sessionId, input.moduleId));
  if (!instance) throw new NoProcError(`module ${input.moduleId} of session ${input.sessionId}`);
  return instance;
}

/**
 * `error` as its events and its reply carry it, frozen throughout: every listener, the caller and a result's
 * `syncFailed` share this one object, and none may change what the others see.
 */
function frozenError(error: unknown): SerializedError {
  return deepFreeze(errorToJSON(error));
}

/** Runs `work` and answers with `done` or `failed`; a synchronous throw is a failure like a rejection. */
function answer<T>(work: () => Promise<T>, done: (value: T) => void, failed: (error: unknown) => void): void {
  Promise.resolve().then(work).then(done, failed);
}

/**
 * One process's runner: runs each command on the process's program and answers with events naming the run.
 * It keeps the execution in flight, so that `abort` (a cancel) and the runner's own stop (the process stopping)
 * abort its request; an aborted execution's late answer is not sent.
 */
function moduleRunner(instances: ModuleInstances) {
  return fromCallback<RunnerCommand, RunnerInput>(({ input, sendBack: sendToProcess, receive }) => {
    // Each answer frozen: an inspector is shown it before the process reads it, and one that put a masked copy of a
    // result on it handed the caller the mask.
    const sendBack = (event: RunnerEvent): void => sendToProcess(Object.freeze(event));
    let inFlight: { run: number; controller: AbortController } | undefined;

    const execute = (run: number, inputs: Readonly<Record<string, unknown>>): void => {
      const controller = new AbortController();
      const mine = { run, controller };
      inFlight = mine;
      const send = (event: RunnerEvent): void => {
        // After an abort the machine has moved on; a late answer from the aborted request is dropped.
        if (controller.signal.aborted) return;
        // Deltas and step syncs come while the execution runs; only its end lets it go.
        const ends = event.type === 'execution.done' || event.type === 'execution.failed';
        if (ends && inFlight === mine) inFlight = undefined;
        sendBack(event);
      };
      answer(
        () =>
          instanceOf(instances, input).execute(
            inputs,
            controller.signal,
            (field, delta, restart) =>
              send({ type: 'execution.delta', run, field, delta, ...(restart ? { restart: true as const } : {}) }),
            // A sync between steps that was refused is reported as the one before the execution is.
            (error) => send({ type: 'sync.failed', run, error: frozenError(error) }),
            // One between steps that changed a value is reported as the one before the execution is, too.
            (outcome) => send({ type: 'sync.done', run, outcome }),
          ),
        (result) => send({ type: 'execution.done', run, result }),
        (error) => send({ type: 'execution.failed', run, error: frozenError(error) }),
      );
    };

    const abort = (reason: string): void => {
      const current = inFlight;
      inFlight = undefined;
      current?.controller.abort(new Error(reason));
    };

    receive((command) => {
      const { run } = command;
      if (command.type === 'sync')
        answer(
          () => instanceOf(instances, input).sync(),
          (outcome) => sendBack({ type: 'sync.done', run, outcome }),
          (error) => sendBack({ type: 'sync.failed', run, error: frozenError(error) }),
        );
      else if (command.type === 'execute') execute(run, command.execution.inputs);
      else if (inFlight?.run === run) abort(command.reason);
    });
    // The process stopped: nobody waits for the execution in flight any more.
    return () => abort('module process stopped');
  });
}

/** The module machine wired to the programs in `instances`. Build once per runtime: `provide` rebuilds the machine. */
export function createModuleLogic(instances: ModuleInstances) {
  return moduleMachine.provide({ actors: { moduleRunner: moduleRunner(instances) } });
}

/** The provided module machine's type. */
export type ModuleLogic = ReturnType<typeof createModuleLogic>;
