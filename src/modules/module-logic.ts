/**
 * The module machine with its effects supplied: sync and execution run on the {@link ModuleInstance} of the
 * process, looked up by module id (the program is not plain data, so it lives beside the machine, not in it).
 * @module
 */
import { fromCallback, fromPromise } from 'xstate';
import { moduleMachine, type Execution, type ExecutionEvent, type SyncOutcome } from '../../machines/module.machine.js';
import { errorToJSON, NoProcError } from '../errors.js';
import type { ModuleInstance } from './module-instance.js';

/** The programs of a runtime's module processes, by {@link moduleKey}. */
export type ModuleInstances = ReadonlyMap<string, ModuleInstance>;

/** Module ids are unique within a session: the key of a module in a runtime is `<session>.<module>`. */
export function moduleKey(sessionId: string, moduleId: string): string {
  return `${sessionId}.${moduleId}`;
}

function instanceOf(instances: ModuleInstances, input: { sessionId: string; moduleId: string }): ModuleInstance {
  const instance = instances.get(moduleKey(input.sessionId, input.moduleId));
  if (!instance) throw new NoProcError(`module ${input.moduleId} of session ${input.sessionId}`);
  return instance;
}

/** The module machine wired to the programs in `instances`. Build once per runtime: `provide` rebuilds the machine. */
export function createModuleLogic(instances: ModuleInstances) {
  return moduleMachine.provide({
    actors: {
      syncModule: fromPromise<SyncOutcome, { sessionId: string; moduleId: string }>(({ input }) =>
        instanceOf(instances, input).sync(),
      ),
      runExecution: fromCallback<ExecutionEvent, { sessionId: string; moduleId: string; execution: Execution }>(
        ({ input, sendBack }) => {
          const controller = new AbortController();
          let settled = false;
          const settle = (event: ExecutionEvent) => {
            // After a cancel the machine has moved on; a late answer from the aborted request is dropped.
            if (settled || controller.signal.aborted) return;
            settled = true;
            sendBack(event);
          };
          Promise.resolve()
            .then(() =>
              instanceOf(instances, input).execute(input.execution.inputs, controller.signal, (field, delta) => {
                if (!settled && !controller.signal.aborted) sendBack({ type: 'execution.delta', field, delta });
              }),
            )
            .then(
              (result) => settle({ type: 'execution.done', result }),
              (error: unknown) => settle({ type: 'execution.failed', error: errorToJSON(error) }),
            );
          // Stopping this actor (a cancel, or the process stopping) aborts the request in flight. A settled
          // execution has nothing in flight: leaving `executing` after it skips the abort (and its Error's stack).
          return () => {
            if (!settled) controller.abort(new Error('execution cancelled'));
          };
        },
      ),
    },
  });
}

/** The provided module machine's type. */
export type ModuleLogic = ReturnType<typeof createModuleLogic>;
