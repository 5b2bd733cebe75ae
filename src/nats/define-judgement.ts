/**
 * A `define` judged without its session, for a define whose session is not there (never opened, deleted, expired)
 * and that names no life of it (see `sessionNotThere`): a node refuses bad input with its own error
 * (`validation_failed` naming what was wrong) rather than `session_not_found`, so that `session_not_found` to a
 * define says the define would be accepted. A client that must not leave a session behind for a refused define (the
 * CLI's `var define`, which opens the session only for a define it can make) sends the define first and opens the
 * session only on `session_not_found`; no session is created for a define that is refused.
 *
 * Judged as an empty session would judge it, with the same code: the request's fields (session-operations.ts), the
 * record (type, value, constraints, options: `createVariableRecord`, with the one pattern budget of a write), and the
 * node's limit on an encoded record. Only an existing variable of the same name is left out, which an empty session
 * cannot have.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { createVariableRecord } from '../variables/record.js';
import { withPatternBudget } from '../variables/string-pattern.js';
import { variableRecordCodec } from './record-codec.js';
import { defineFields } from './session-operations.js';
import { untagRequest } from './untag-value.js';
import type { RequestBody } from './wire.js';

/**
 * Throws what a define of `body` (as it came, tagged or not) is refused with on an empty session of a node whose
 * records may take `recordLimit` bytes encoded (no limit when undefined); returns when it would be accepted.
 * @example
 * // A define whose session was not found: its input is judged first.
 * judgeDefine(body, recordLimit); // throws ValidationError for an unknown type
 * throw new SessionError('session_not_found', sessionId);
 */
export function judgeDefine(body: RequestBody, recordLimit: number | undefined): void {
  const { name, type, value, options } = defineFields(untagRequest(body));
  // An id and times of the lengths a session gives its records: the size judged is the size it would store.
  const at = new Date().toISOString();
  const record = withPatternBudget(() => createVariableRecord({ id: randomUUID(), name, type, value, options, at }));
  if (recordLimit !== undefined) variableRecordCodec({ maxBytes: recordLimit }).encode(record);
}
