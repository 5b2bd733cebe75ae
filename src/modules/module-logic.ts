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
import { errorToJSON, NoProcError } from '../errors.js';
import type { ModuleInstance } from './module-instance.js';

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
 * One process's runner: runs each command on the process's program and answers with events naming the
 * execution. It keeps the execution in flight, so that `abort` (a cancel) and the runner's own stop (the process
 * stopping) abort its request; an aborted execution's late answer is not sent.
 */
function moduleRunner(instances: ModuleInstances) {
  return fromCallback<RunnerCommand, RunnerInput>(({ input, sendBack, receive }) => {
    let inFlight: { executionId: string; controller: AbortController } | undefined;

    const sync = (executionId: string): void => {
      Promise.resolve()
        .then(() => instanceOf(instances, input).sync())
        .then(
          (outcome) => sendBack({ type: 'sync.done', executionId, outcome }),
          (error: unknown) => sendBack({ type: 'sync.failed', executionId, error: errorToJSON(error) }),
        );
    };

    const execute = (executionId: string, inputs: Readonly<Record<string, unknown>>): void => {
      const controller = new AbortController();
      const mine = { executionId, controller };
      inFlight = mine;
      const answer = (event: RunnerEvent): void => {
        // After an abort the machine has moved on; a late answer from the aborted request is dropped.
        if (controller.signal.aborted) return;
        if (event.type !== 'execution.delta' && inFlight === mine) inFlight = undefined;
        sendBack(event);
      };
      Promise.resolve()
        .then(() =>
          instanceOf(instances, input).execute(inputs, controller.signal, (field, delta) =>
            answer({ type: 'execution.delta', executionId, field, delta }),
          ),
        )
        .then(
          (result) => answer({ type: 'execution.done', executionId, result }),
          (error: unknown) => answer({ type: 'execution.failed', executionId, error: errorToJSON(error) }),
        );
    };

    const abort = (reason: string): void => {
      const current = inFlight;
      inFlight = undefined;
      current?.controller.abort(new Error(reason));
    };

    receive((command) => {
      if (command.type === 'sync') sync(command.executionId);
      else if (command.type === 'execute') execute(command.execution.executionId, command.execution.inputs);
      else if (inFlight?.executionId === command.executionId) abort(command.reason);
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
