/**
 * The input check of a program type, without a module of that type: a program built from the signature (never run),
 * whose `inputProblem` is the check a module of that type runs before it queues an execution. For a caller that
 * must judge inputs for another type than the one a module runs now: a remote handle (the client runs no module),
 * and a module whose type variable names another type than its program's, which the execution's sync will swap in.
 * @module
 */
import type { ValidationError } from '../errors.js';
import { createEchoModel } from './language-model.js';
import type { ModuleClass } from './programs.js';
import type { ModuleTool } from './module-types.js';
import { inputProblem, inputsAsWritten, type ProgramModule } from './program-module.js';

/**
 * What is wrong with an execution's inputs, or `undefined`: the embedded module's own check of its signature; with
 * `only`, of those fields alone (each must be one the signature takes, and pass its rule).
 */
export interface ExecuteInputCheck {
  (inputs: Readonly<Record<string, unknown>>, only?: readonly string[]): ValidationError | undefined;
  /** The inputs with the `Date`s of date-typed fields as the program's prompt writes them (dates-as-written.ts). */
  readonly asWritten: (inputs: Readonly<Record<string, unknown>>) => Readonly<Record<string, unknown>>;
}

/** Stands in for the tools and the reward a probe's type cannot be built without; never called. */
const PROBE_TOOL: ModuleTool = { name: 'probe', description: 'never called', func: () => undefined };
const PROBE_OPTIONS = { tools: [PROBE_TOOL], reward: () => 0 } as const;

/**
 * The input check of `moduleClass` for `signature`. The program is built at the first check; a check that finds
 * nothing when it cannot be built (a signature the module refuses anyway, which then judges the inputs alone).
 */
export function probeInputCheck(moduleClass: ModuleClass, signature: string): ExecuteInputCheck {
  let program: ProgramModule | null | undefined;
  const build = (): ProgramModule | null => {
    try {
      return new moduleClass(signature, { ...PROBE_OPTIONS, llm: createEchoModel() });
    } catch {
      return null;
    }
  };
  const built = (): ProgramModule | null => (program ??= build());
  const check = (inputs: Readonly<Record<string, unknown>>, only?: readonly string[]): ValidationError | undefined => {
    const probe = built();
    return probe === null ? undefined : inputProblem(probe, inputs, only);
  };
  const asWritten = (inputs: Readonly<Record<string, unknown>>): Readonly<Record<string, unknown>> => {
    const probe = built();
    return probe === null ? inputs : inputsAsWritten(probe, inputs);
  };
  return Object.assign(check, { asWritten });
}
