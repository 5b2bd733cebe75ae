/**
 * What a remote module handle refuses of an execution's inputs before it sends anything, so that inputs JSON cannot
 * carry are refused as the embedded module refuses them. Sent as they were, JSON changed them on the way (a `Date`
 * in a string field became its text and ran, `NaN` arrived as `null` and was called missing) or could not encode
 * them (a bigint, a cyclic object: an `InternalError`).
 *
 * Inputs JSON carries exactly are sent unjudged: the node runs the embedded check on what it receives, against the
 * module as it is then (the type its type variable names then, the signature it was created again with). The
 * client's copy of that check (built from the spec the handle was created with, or from the module's description) is
 * only asked about the other fields, each alone: a stale copy must not refuse what the node would take, and the
 * handle asks a fresh description before it refuses (module-input-check.ts).
 * @module
 */
import { ValidationError } from '../errors.js';
import type { ExecuteInputCheck } from '../modules/input-probe.js';
import { isExactJson } from './tagged-values.js';

export type { ExecuteInputCheck } from '../modules/input-probe.js';

/**
 * The input check a module of `type` and `signature` runs embedded (see input-probe.ts); `undefined` when the client
 * cannot tell the module's program (a type it does not know: one registered on the nodes only). The check builds an
 * Ax program, so its modules are loaded here, at the first input that needs it, and not by every client and CLI
 * command that imports this file (Ax alone takes most of the time a CLI command spends loading).
 * @example
 * const check = await executeInputCheck('Predict', 'question:string -> answer:string');
 * check?.({ question: new Date() }); // ValidationError "input field 'question' must be a string, got a Date"
 */
export async function executeInputCheck(type: unknown, signature: unknown): Promise<ExecuteInputCheck | undefined> {
  if (typeof type !== 'string' || typeof signature !== 'string') return undefined;
  const [{ defaultModuleRegistry }, { probeInputCheck }] = await Promise.all([
    import('../modules/module-registry.js'),
    import('../modules/input-probe.js'),
  ]);
  if (!defaultModuleRegistry.has(type)) return undefined;
  return probeInputCheck(defaultModuleRegistry.resolve(type).moduleClass, signature);
}

/**
 * The inputs of an execution of `moduleId`, inputs that are not exact JSON (`isExactJson`), as they are sent, or
 * throws what they are refused with before they are (see the module comment): `check`'s refusal of a field that is not
 * exact JSON when there is a check and it refuses one, and a `ValidationError` naming the inputs
 * (`details.field: 'inputs'`) when JSON cannot encode them at all. A `Date` of a date-typed field goes as the text the
 * program's prompt writes for it (`1970-01-01` for a `date`), which the node's program writes as it is; the rest as
 * JSON makes it.
 */
export function sendableInputs(
  moduleId: string,
  inputs: Readonly<Record<string, unknown>>,
  check: ExecuteInputCheck | undefined,
): Readonly<Record<string, unknown>> {
  const inexact: string[] = [];
  // Own and inherited enumerable keys alike, as the check reads them; one that cannot be read is the check's to name.
  for (const field in inputs) {
    let exact = false;
    try {
      exact = isExactJson(inputs[field]);
    } catch {
      // Left to the check, which names the field that could not be read.
    }
    if (!exact) inexact.push(field);
  }
  const refusal = check?.(inputs, inexact);
  if (refusal) throw refusal;
  const sent = check?.asWritten(inputs) ?? inputs;
  try {
    JSON.stringify(sent);
    return sent;
  } catch (error) {
    throw new ValidationError(
      `execute() of module '${moduleId}': its inputs cannot be sent as JSON (${(error as Error).message})`,
      { cause: error, details: { field: 'inputs', moduleId } },
    );
  }
}
