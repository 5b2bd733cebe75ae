/**
 * What every reply must be, whatever was sent (docs/protocol.md, Conventions and Errors): JSON; a success with
 * `result` and `revision`, or an error whose code is in the page's table with the status it gives, both service
 * error headers and a `revision`; never `internal_error`. And the refusals the page promises for malformed
 * requests: `validation_failed`, with nothing written.
 * @module
 */
import { unknownFields, READ_OPERATIONS } from './accepted-fields.js';
import type { Report } from './deviations.js';
import type { MutatedId } from './headers-and-ids.js';
import { rawModeMustBeRefused, type RawMode } from './raw-payloads.js';
import type { FuzzReply } from './wire-client.js';

/** A request as sent, for the checks of its reply. */
export interface SentRequest {
  /** The operation's name (`var.set`, `outcome`). */
  readonly operation: string;
  readonly subject: string;
  /** The payload's text (for the report and the model). */
  readonly text: string;
  /** The JSON object the node read from the payload, `undefined` when it is none. */
  readonly parsed: Record<string, any> | undefined;
  /** How the payload's bytes were broken, if they were. */
  readonly rawMode?: RawMode;
  /** The bad session or module id put in the subject, if one was. */
  readonly badId?: MutatedId;
  /** A header got a garbage value: the request may be refused for it, or wait, whatever its payload. */
  readonly headerMutated: boolean;
  /** The model's variables revision when it was sent. */
  readonly revisionBefore: number;
  /** The request in one line: number, subject, payload, mutations, headers. */
  readonly label: string;
}

/**
 * Checks the reply's shape; returns its error code (`undefined` for a success). `documented` maps each code of the
 * page's error table to its status.
 */
export function checkReplyShape(
  sent: SentRequest,
  reply: FuzzReply,
  documented: ReadonlyMap<string, number>,
  report: Report,
): string | undefined {
  const { body, status } = reply;
  const { label } = sent;
  if (!status) {
    if (sent.subject.startsWith('tether.v1.node.')) {
      if (!reply.outcome) report(`outcome answer without error headers nor Tether-Execution-Outcome: ${label}`);
    } else if (!('result' in body) || typeof body.revision !== 'number') {
      report(`success reply without result/revision: ${label}`);
    }
    return undefined;
  }
  const code: string | undefined = body?.error?.code;
  const expected = code === undefined ? undefined : documented.get(code);
  if (expected === undefined) report(`undocumented error code ${code}: ${label}`);
  else if (String(expected) !== status) report(`status ${status} for ${code}, documented ${expected}: ${label}`);
  if (!reply.errorHeader?.startsWith(`${code}: `)) {
    report(`Nats-Service-Error header '${reply.errorHeader}' for ${code}: ${label}`);
  }
  if (typeof body.revision !== 'number') report(`error reply without revision: ${label}`);
  if (code === 'internal_error' || code === 'bridge_error') {
    report(`${code} (${String(body.error.message).slice(0, 200)}): ${label}`);
  }
  const outcome = body.error?.details?.outcome;
  if (outcome === 'applied' || outcome === 'unknown') report(`error with outcome ${outcome}: ${label}`);
  return code;
}

/**
 * The refusals promised whatever the operation: a payload that is no JSON object (or no UTF-8), an unknown
 * top-level field, a bad id in the subject must get `validation_failed` (unless a garbage header may have been
 * refused first, or the subject is an outcome subject, which answers in its own way). A bad id never succeeds.
 */
export function checkValidationRefusal(sent: SentRequest, reply: FuzzReply, code: string | undefined, report: Report) {
  const { label, badId } = sent;
  if (!reply.status && badId) report(`success with a bad ${badId.what}: ${label}`);
  if (sent.headerMutated || sent.subject.startsWith('tether.v1.node.')) return;
  const unknown = unknownFields(sent.operation, sent.parsed);
  const reason =
    sent.rawMode !== undefined && rawModeMustBeRefused(sent.rawMode, sent.parsed)
      ? `raw ${sent.rawMode}`
      : unknown.length > 0
        ? `unknown top-level field ${unknown.map((key) => JSON.stringify(key)).join(', ')}`
        : badId && !badId.dotted
          ? badId.what
          : undefined;
  if (reason && code !== 'validation_failed') {
    const answered = `${code ?? 'success'} (${JSON.stringify(reply.body).slice(0, 200)})`;
    report(`${reason} answered ${answered}, not validation_failed: ${label}`);
  }
}

/**
 * A refusal, or a read, must not move the variables bucket: its reply's revision is at most the one before it.
 * Module operations and `open`/`delete` write other buckets (or session records) and are left out.
 */
export function checkNoWriteByRefusal(sent: SentRequest, reply: FuzzReply, code: string | undefined, report: Report) {
  const { operation, revisionBefore, label } = sent;
  if (!code && !READ_OPERATIONS.has(operation)) return;
  if (operation.startsWith('module.') || operation === 'open' || operation === 'delete') return;
  const revision: unknown = reply.body?.revision;
  if (typeof revision === 'number' && revision > revisionBefore) {
    const what = code ? `refused (${code})` : 'read';
    report(`${what} request moved the variables bucket from ${revisionBefore} to ${revision}: ${label}`);
  }
}
