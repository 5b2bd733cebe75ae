/**
 * The copy of a module's input check that one remote module handle holds (see remote-input-check.ts): built from the
 * description the handle was made with, or from one it asks for at the first input that needs it, and judged again on
 * a fresh description before a refusal stands when the client has heard of a change of the modules since.
 * @module
 */
import type { ModuleDescription } from '../../machines/module.machine.js';
import { ValidationError } from '../errors.js';
import { executeInputCheck, sendableInputs, type ExecuteInputCheck } from './remote-input-check.js';
import type { RemoteTransport } from './remote-transport.js';

/** One remote module handle's input check of the inputs of its executions that are not exact JSON. */
export class ModuleInputCheck {
  /**
   * The input check of inputs that are not exact JSON (see `RemoteModuleHandle.execute`), built once one was needed:
   * from the description the handle was given, or from one it asked for.
   */
  #check: Promise<ExecuteInputCheck | undefined> | undefined;
  /** The module's type and signature as the handle was given them, until {@link #check} is built from them. */
  #described: Pick<ModuleDescription, 'moduleType' | 'signature'> | undefined;
  /** The highest modules-bucket revision the client had heard of when it got the description {@link #check} is of. */
  #checkedAt: number;

  /**
   * `describe`: the handle's own, asked when there is no description to build the check from; `described`: the
   * module's type and signature from the description the handle was made with.
   */
  constructor(
    private readonly moduleId: string,
    private readonly transport: RemoteTransport,
    private readonly describe: () => Promise<ModuleDescription>,
    described?: Pick<ModuleDescription, 'moduleType' | 'signature'>,
  ) {
    this.#described = described;
    this.#checkedAt = transport.modulesRevision;
  }

  /**
   * `inputs`, which are not exact JSON, as they are sent (see remote-input-check.ts). What the handle's check refuses
   * is judged again by a check built from a fresh description before it stands, when the client has heard of a change
   * of the modules since the check was made: the module may have been created again, with another signature.
   */
  async sendable(inputs: Readonly<Record<string, unknown>>): Promise<Readonly<Record<string, unknown>>> {
    try {
      return sendableInputs(this.moduleId, inputs, await this.inputCheck());
    } catch (refusal) {
      // Inputs JSON cannot encode at all are refused whatever the module is now, and a copy made since the client last
      // heard of a change of the modules is as fresh as a description would give.
      const encoding = !(refusal instanceof ValidationError) || refusal.details?.field === 'inputs';
      if (encoding || this.transport.modulesRevision <= this.#checkedAt) throw refusal;
      this.#check = undefined;
      this.#described = undefined;
      return sendableInputs(this.moduleId, inputs, await this.inputCheck());
    }
  }

  /**
   * The check of inputs that are not exact JSON: built from the description the handle was given, or else from the
   * module's description, asked once (again after a describe that failed; a module it cannot tell is judged by the
   * node).
   */
  inputCheck(): Promise<ExecuteInputCheck | undefined> {
    if (this.#check !== undefined) return this.#check;
    if (this.#described !== undefined) {
      this.#check = executeInputCheck(this.#described.moduleType, this.#described.signature);
      return this.#check;
    }
    const described: Promise<ExecuteInputCheck | undefined> = this.describe().then(
      (description) => {
        this.#checkedAt = this.transport.modulesRevision;
        return executeInputCheck(description.moduleType, description.signature);
      },
      () => {
        if (this.#check === described) this.#check = undefined;
        return undefined;
      },
    );
    this.#check = described;
    return described;
  }
}
