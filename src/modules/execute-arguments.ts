/**
 * The checks of `execute(inputs, options)`'s arguments themselves, shared by the embedded and the remote module
 * handle so both refuse the same mistakes with the same error (the input fields are the program's to judge: see
 * `inputProblem`, which a remote handle runs too, through remote-input-check.ts; the options' values are checked by
 * execution-timeout.ts and execution-signal.ts).
 * @module
 */
import { ValidationError } from '../errors.js';
import type { RemoteExecuteOptions } from '../nats/remote-execution.js';
import { assertKindReadable, assertOptionKeys, optionKeys, readOptions } from '../option-keys.js';
import type { ExecuteOptions } from './module-handle.js';

/** The options `execute` takes, embedded and remotely; any other (a `timeout` for `timeoutMs`) is refused. */
const EXECUTE_OPTION_KEYS = optionKeys<ExecuteOptions & RemoteExecuteOptions>({ timeoutMs: true, signal: true });

/** Throws unless `inputs` is an object of input fields (not an array, not null), as both handles refuse it. */
export function assertInputsObject(
  moduleId: string,
  inputs: unknown,
): asserts inputs is Readonly<Record<string, unknown>> {
  assertKindReadable(inputs, `execute() of module '${moduleId}' inputs`);
  if (typeof inputs !== 'object' || inputs === null || Array.isArray(inputs)) {
    throw new ValidationError(`execute() of module '${moduleId}' takes an object of input fields`);
  }
  readOptions(inputs, `execute() of module '${moduleId}'`, 'input');
}

/**
 * Throws unless `options` is an object naming only `timeoutMs` and `signal`: a misspelled `timeout` was read as
 * absent, and the execution waited the runtime's default (two minutes) instead.
 */
export function assertExecuteOptionKeys(moduleId: string, options: unknown): void {
  assertOptionKeys(options, `execute() of module '${moduleId}'`, EXECUTE_OPTION_KEYS);
}
