/**
 * What is wrong with a message on a module events subject, if anything. Events are core NATS: any client of the
 * account can publish there, and a remote module handle hands what it hears to its listeners: `onState` was called
 * with `(undefined, undefined)` for a `module.state` with no state, and a `module.result` listener got a result that
 * was a string. So a handle checks each event's shape as a node builds it, and drops, with a report, one that fails
 * (as a remote watch does with variable events, see variable-event-check.ts).
 * @module
 */
import { MODULE_EVENT_TYPES } from './module-events.js';

const EVENT_TYPES: ReadonlySet<string> = new Set(MODULE_EVENT_TYPES);
const STATES: ReadonlySet<string> = new Set(['idle', 'syncing', 'executing']);

type Fields = Readonly<Record<string, unknown>>;

const isObject = (value: unknown): value is Fields =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Why `value.field` is not a string, or `undefined` when it is one. */
const notString = (value: Fields, field: string, where = field): string | undefined =>
  typeof value[field] === 'string' ? undefined : `${where} is no string`;

/** Why `error` is no serialized error (`{ code, message, details? }`), or `undefined`. */
function errorFault(error: unknown): string | undefined {
  if (!isObject(error)) return 'error is no object';
  return (
    notString(error, 'code', 'error.code') ??
    notString(error, 'message', 'error.message') ??
    (error.details === undefined || isObject(error.details) ? undefined : 'error.details is no object')
  );
}

const USAGE_COUNTS = ['promptTokens', 'completionTokens', 'totalTokens'] as const;

/** Why a result's `usage` is no count of tokens (`{ promptTokens, completionTokens, totalTokens }`), or `undefined`. */
function usageFault(usage: unknown): string | undefined {
  if (!isObject(usage)) return 'result.usage is no object';
  const wrong = USAGE_COUNTS.find((count) => {
    const value = usage[count];
    return typeof value !== 'number' || !Number.isFinite(value) || value < 0;
  });
  return wrong === undefined ? undefined : `result.usage.${wrong} is no count of tokens`;
}

/** Why a `module.result`'s `result` is no execution result, or `undefined`. */
function resultFault(result: unknown): string | undefined {
  if (!isObject(result)) return 'result is no object';
  return (
    notString(result, 'executionId', 'result.executionId') ??
    notString(result, 'moduleType', 'result.moduleType') ??
    // Absent from the results of a node that predates it, which listeners can do without.
    (result.model === undefined ? undefined : notString(result, 'model', 'result.model')) ??
    (isObject(result.output) ? undefined : 'result.output is no object') ??
    (isObject(result.provenance) ? undefined : 'result.provenance is no object') ??
    (result.usage === undefined ? undefined : usageFault(result.usage)) ??
    (result.syncFailed === undefined ? undefined : errorFault(result.syncFailed))
  );
}

/** The checks of each type's own fields. */
const FAULTS: Readonly<Record<string, (event: Fields) => string | undefined>> = {
  'module.state': (event) => {
    if (typeof event.state !== 'string' || !STATES.has(event.state)) return 'state is none of idle, syncing, executing';
    // Idle names no execution; syncing and executing name theirs.
    if (event.state === 'idle') return event.executionId === undefined ? undefined : 'an idle state names an execution';
    return notString(event, 'executionId');
  },
  'module.result': (event) => resultFault(event.result),
  'module.failed': (event) => notString(event, 'executionId') ?? errorFault(event.error),
  'module.syncFailed': (event) => notString(event, 'executionId') ?? errorFault(event.error),
  'module.delta': (event) =>
    notString(event, 'executionId') ??
    notString(event, 'field') ??
    notString(event, 'delta') ??
    (event.restart === undefined || event.restart === true ? undefined : 'restart is not true'),
  'module.synced': (event) => {
    const { outcome } = event;
    if (!isObject(outcome)) return 'outcome is no object';
    return (
      notString(event, 'executionId') ??
      notString(outcome, 'moduleType', 'outcome.moduleType') ??
      (isObject(outcome.changes) ? undefined : 'outcome.changes is no object')
    );
  },
};

/**
 * Why the decoded message `value` is no module event a node publishes, in a few words naming the field; `undefined`
 * when it is one.
 * @example
 * moduleEventFault({ type: 'module.state', sessionId: 's', moduleId: 'qa' })
 * // 'state is none of idle, syncing, executing'
 */
export function moduleEventFault(value: unknown): string | undefined {
  if (!isObject(value)) return 'it is no JSON object';
  if (typeof value.type !== 'string' || !EVENT_TYPES.has(value.type)) return 'type is no module event type';
  return (
    notString(value, 'sessionId') ??
    notString(value, 'moduleId') ??
    (value.incarnation === undefined ? undefined : notString(value, 'incarnation')) ??
    FAULTS[value.type]!(value)
  );
}
