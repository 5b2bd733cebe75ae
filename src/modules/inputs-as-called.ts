/**
 * An execution's inputs as they were when `execute` was called. The program reads them later (after the module's
 * sync, behind the executions queued before it), and a caller that reuses one inputs object for several calls
 * (`inputs.question = next; calls.push(qa.execute(inputs))`) had every execution answer the last question. An
 * inspector that redacted a module snapshot's inputs in place rewrote the running execution the same way.
 * Each input is copied as value-as-called.ts says; inputs of which any part cannot be copied go to the check as given.
 * @module
 */
import { copyAsCalled } from '../variables/value-as-called.js';
import { setByName } from '../variables/names.js';

/**
 * A frozen copy of `inputs` (own and inherited enumerable fields, as the program reads them), their plain objects and
 * lists frozen as well; `inputs` itself when a part of them cannot be copied (see the module comment).
 */
export function inputsAsCalled(inputs: Readonly<Record<string, unknown>>): Readonly<Record<string, unknown>> {
  const copy: Record<string, unknown> = {};
  try {
    for (const field in inputs) {
      const input = copyAsCalled(inputs[field]);
      // A cycle, or a read that threw: the check refuses these inputs, naming what it found.
      if (!input) return inputs;
      setByName(copy, field, input.copy);
    }
  } catch {
    // Enumerating the inputs threw (a proxy of the caller's): the check reads them again and names it.
    return inputs;
  }
  return Object.freeze(copy);
}
