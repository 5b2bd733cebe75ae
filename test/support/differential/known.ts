/**
 * Differences between the sides that are documented or known and left alone, each with where it is said. A
 * difference that is listed here is counted, not reported.
 * @module
 */
import { codeOf, type Outcome } from './outcome.js';
import { LATER_MODULE } from './listeners.js';

/** Why `actual` (of side `side`) may differ from the reference outcome of the call `label`; undefined otherwise. */
export function knownDifference(label: string, reference: Outcome, actual: Outcome, side: string): string | undefined {
  // Documented: a remote handle is bound to the life of the session its open replied with and sends it with each
  // request (README, "Deleting a session" and the `open` row of the subjects table); once that life is over, the
  // node's session_not_found names the life (src/errors/session-errors.ts), where an embedded handle's names none.
  if (side === 'remote' && codeOf(reference) === 'session_not_found' && codeOf(actual) === 'session_not_found') {
    const { message, details } = errorOf(actual);
    const { incarnation, ...rest } = details as Record<string, unknown>;
    const expected = errorOf(reference);
    if (
      typeof incarnation === 'string' &&
      message.startsWith(`${expected.message} in the life the request names`) &&
      JSON.stringify(rest) === JSON.stringify(expected.details)
    )
      return 'a remote handle names the life it was bound to';
  }
  // Documented: a call on a remote session handle after its stop(), or on a module handle it gave out, says that it is
  // the handle that was stopped, not the session on its nodes (README, "A client's `session.stop()`": `details.handle:
  // 'stopped'`).
  if (side === 'remote' && codeOf(reference) === 'session_stopped' && codeOf(actual) === 'session_stopped') {
    const { message, details } = errorOf(actual);
    const { handle, ...rest } = details as Record<string, unknown>;
    const expected = errorOf(reference);
    if (
      handle === 'stopped' &&
      message === expected.message &&
      JSON.stringify(rest) === JSON.stringify(expected.details)
    )
      return 'a stopped remote session handle says it is the handle';
  }
  // Documented: BestOfN and Refine are embedded only (README, "Modules": their `reward` is a function), so the node's
  // refusal of an unknown type lists the types a request over the wire could name (src/nats/module-operations.ts).
  if (side === 'remote' && codeOf(reference) === 'unknown_module' && codeOf(actual) === 'unknown_module') {
    const wireOnly = (text: string): string => text.replace(/, BestOfN, Refine/, '');
    const expected = errorOf(reference);
    const details = expected.details as { available?: { $array?: string[] } };
    const wire = {
      ...details,
      available: {
        ...details.available,
        $array: details.available?.$array?.filter((t) => !/^(BestOfN|Refine)$/.test(t)),
      },
    };
    const got = errorOf(actual);
    if (got.message === wireOnly(expected.message) && JSON.stringify(got.details) === JSON.stringify(wire))
      return 'a node lists the module types the wire can create';
  }
  // Documented: a module handle's stop() resolves once its session stopped embedded (the module went with it), but
  // rejects with session_stopped once a remote session handle or a NATS node's session there stopped, for a module
  // whose spec is in the bucket (README, "A client's `session.stop()`": "One difference stays").
  if (
    side !== 'memory' &&
    /^module '[^']*'\.stop\(\)$/.test(label) &&
    JSON.stringify(reference) === JSON.stringify({ ok: { $: 'undefined' } }) &&
    codeOf(actual) === 'session_stopped'
  ) {
    const { message, details } = errorOf(actual);
    const { handle, sessionId, ...rest } = details as Record<string, unknown>;
    const byHandle = side === 'remote' ? handle === 'stopped' : handle === undefined;
    if (byHandle && message === `session '${String(sessionId)}' stopped` && Object.keys(rest).join() === '$frozen')
      return "a module handle's stop() after its session's stop rejects on a node and remotely";
  }
  // Documented: what only an embedded module can hold (`reward`, `pick`: functions) is refused over the wire
  // (docs/protocol.md, "The module spec"), so the node's refusal of an unknown key lists the keys a wire spec may have.
  if (side === 'remote' && codeOf(reference) === 'validation_failed' && codeOf(actual) === 'validation_failed') {
    const embeddedOnly = (key: unknown): boolean => key === 'reward' || key === 'pick';
    const expected = errorOf(reference);
    const details = expected.details as { field?: unknown; accepted?: { $array?: unknown[] } };
    if (details.field === 'spec' && Array.isArray(details.accepted?.$array)) {
      const wire = {
        ...details,
        accepted: { ...details.accepted, $array: details.accepted.$array.filter((k) => !embeddedOnly(k)) },
      };
      const got = errorOf(actual);
      const message = expected.message.replace(/, reward, pick(?=, )/, '');
      if (got.message === message && JSON.stringify(got.details) === JSON.stringify(wire))
        return 'a node lists the spec keys the wire can carry';
    }
  }
  // Documented: a remote module handle goes on reaching whatever module has its id within its life, so one stopped
  // through another handle (or with an embedded session's stop, which a remote session handle's leaves running) and
  // created again is the one its requests reach (README, "A module stopped through another handle or client stays
  // `alive`...") and its listeners hear (RemoteModuleHandle.onState: "as `on`'s listeners hear that module"), where an
  // embedded handle of a module that is gone hears nothing more (the new one gets a handle of its own: ModuleHandle).
  // Only events of the handle's own life are excused: another life's still name theirs (listeners.ts).
  if (side === 'remote' && label === 'state events heard by module listeners' && 'ok' in actual) {
    const entries = (actual.ok as { $array?: { $array: unknown[] }[] }).$array ?? [];
    const ofLife = ({ $array: [, , what, later] }: { $array: unknown[] }): boolean =>
      later === LATER_MODULE && !(typeof what === 'object' && what !== null && 'incarnation' in what);
    if (entries.some(ofLife)) {
      const rest = { ...actual, ok: { ...(actual.ok as object), $array: entries.filter((entry) => !ofLife(entry)) } };
      if (JSON.stringify(rest) === JSON.stringify(reference))
        return 'a remote module handle hears a module created again under its id';
    }
  }
  return undefined;
}

function errorOf(outcome: Outcome): { message: string; details: unknown } {
  return ('rejected' in outcome ? outcome.rejected : 'threw' in outcome ? outcome.threw : {}) as never;
}
