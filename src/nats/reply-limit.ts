/**
 * Replies that do not fit in one NATS message. The server refuses any message over its `max_payload`, and the
 * remote client speaks no paging protocol, so a read whose answer is too large (the list of many large
 * variables, an export, a long history of a large value, an execution's huge output) is answered with a typed
 * {@link PayloadTooLargeError} naming the operation, the session, both sizes and how to ask for less, instead of
 * the library's `MAX_PAYLOAD_EXCEEDED` passed on as an internal error. The node carries on serving.
 * @module
 */
import { PayloadTooLargeError } from '../errors.js';
import type { TetherSubjects } from './subjects.js';

/** How to ask for less, per operation; an operation not listed gets no hint. */
const HINTS: Readonly<Record<string, string>> = {
  'var.list': 'ask for a page at a time with "after" (the remote client does so by itself)',
  'var.getMany': 'ask for fewer names at a time',
  'var.export': 'read the variables with var.list a page at a time instead',
  'var.history':
    'ask for a page at a time with "after", or for the newest versions with "limit" (the remote client pages by itself)',
  'module.execute': 'the execution ran, but its output is too large to be returned over NATS',
  'sessions.list': 'ask for fewer sessions at a time with a smaller limit',
  'module.list': 'ask for fewer modules at a time with limit and after, or for their ids alone with "specs": false',
  'var.setMany':
    'the batch was carried out, but its outcome for every name is too large for one reply; var.getMany reads what ' +
    'the names hold now; send fewer names at a time',
};

/**
 * Operations whose request was carried out though its reply is too large: the error says so (`details.outcome:
 * 'applied'`), where a refusal otherwise means that nothing changed. A `setMany` that ran answers each name; one refused
 * whole answers one error, which fits.
 */
const APPLIED = new Set(['var.setMany']);

/** The operation and session a request subject names, e.g. `var.list` and `s1`. */
function describeRequest(subjects: TetherSubjects, subject: string): { operation: string; sessionId?: string } {
  if (subject === subjects.sessionsList()) return { operation: 'sessions.list' };
  const variable = subjects.parseRequest(subject);
  if (variable) {
    return {
      operation: variable.kind === 'var' ? `var.${variable.operation}` : variable.kind,
      sessionId: variable.sessionId,
    };
  }
  const module = subjects.parseModuleRequest(subject);
  if (module) {
    return {
      operation: module.kind === 'list' ? 'module.list' : `module.${module.operation}`,
      sessionId: module.sessionId,
    };
  }
  return { operation: subject };
}

/** The error answering a request on `subject` whose reply is `size` bytes, over the server's `limit`. */
export function replyTooLarge(
  subjects: TetherSubjects,
  subject: string,
  size: number,
  limit: number,
): PayloadTooLargeError {
  const { operation, sessionId } = describeRequest(subjects, subject);
  const what = `reply to ${operation}${sessionId === undefined ? '' : ` of session '${sessionId}'`}`;
  return new PayloadTooLargeError(what, size, limit, HINTS[operation], {
    details: {
      operation,
      ...(sessionId === undefined ? {} : { sessionId }),
      ...(APPLIED.has(operation) ? { outcome: 'applied' } : {}),
    },
  });
}
