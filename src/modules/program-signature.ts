/**
 * An Ax signature parsed once for a program, and the check that ProgramOfThought's agent can take it: each refusal
 * a Tether validation error naming the signature.
 * @module
 */
import { AxSignature, agent } from '@ax-llm/ax';
import type { AxSignature as Sig } from '@ax-llm/ax';
import { ValidationError } from '../errors.js';
import { messageOf } from '../printable.js';
import { createCodeRuntime } from './code-runtime.js';

/**
 * Refuses, as a signature Ax refuses, one that Ax's `agent()` (ProgramOfThought) cannot take though every other type
 * does: a signature-level description, an output named `javascriptCode`, an input named like one of its own fields.
 * The agent is built again for each execution; built here once, it fails at creation (or a type swap) rather than
 * at every execution.
 */
export function assertAgentTakes(sig: Sig, signature: string): void {
  try {
    agent(sig, { runtime: createCodeRuntime() });
  } catch (cause) {
    const why = messageOf(cause);
    throw new ValidationError(`signature '${signature}' cannot run as ProgramOfThought: ${why}`, {
      cause,
      details: { field: 'signature' },
    });
  }
}

/** Parses a signature once, turning Ax's exception into a Tether validation error. */
export function parseSignature(signature: string): Sig {
  try {
    return AxSignature.from(signature);
  } catch (cause) {
    const why = messageOf(cause);
    throw new ValidationError(`invalid signature '${signature}': ${why}`, { cause, details: { field: 'signature' } });
  }
}
