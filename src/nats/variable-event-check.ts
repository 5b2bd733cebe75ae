/**
 * What is wrong with a message on a variable events subject, if anything. Events are core NATS: any client of the
 * account can publish there, and a remote watch takes what it hears as news of the store. A revision that is no safe
 * whole number would become the `Tether-Min-Revision` of every later request of the client, which every node refuses;
 * a value its type cannot hold would reach the listener as a change. So a watch checks each event as a node checks a
 * stored record, without the constraints (the event does not carry them), and drops, with a report, one that fails.
 * @module
 */
import { cutText, messageOf, printable } from '../printable.js';
import { decodeValue } from '../variables/codec.js';
import { isVariableName } from '../variables/names.js';
import { checkStoredValue } from '../variables/stored-value.js';
import type { VariableType } from '../variables/types.js';
import { isVariableType } from '../variables/validate.js';

/** Whether `value` is a whole number from 1 to `Number.MAX_SAFE_INTEGER`, as versions and revisions are. */
const isCount = (value: unknown): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 1;

/** A field's value as JSON, cut short: it came from a message anyone could have sent. */
const shown = (value: unknown): string => cutText(JSON.stringify(value) ?? printable(value), 60);

/**
 * Why the decoded message `value` is no variable event a node publishes, in a few words naming the field; `undefined`
 * when it is one.
 * @example
 * variableEventFault({ sessionId: 's', name: 'x', type: 'integer', newValue: 1, version: 1, revision: 1e20, updatedBy: null })
 * // "revision must be a whole number from 1 to 9007199254740991, got 100000000000000000000"
 */
export function variableEventFault(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'it is no JSON object';
  const event = value as Record<string, unknown>;
  if (typeof event.sessionId !== 'string') return 'no sessionId string';
  if (!isVariableName(event.name)) return `name ${shown(event.name)} is no variable name`;
  if (!isVariableType(event.type)) return `type ${shown(event.type)} is no variable type`;
  if (event.oldType !== undefined && !isVariableType(event.oldType))
    return `oldType ${shown(event.oldType)} is no variable type`;
  for (const field of ['version', 'revision'] as const) {
    if (!isCount(event[field]))
      return `${field} must be a whole number from 1 to ${Number.MAX_SAFE_INTEGER}, got ${shown(event[field])}`;
  }
  for (const field of ['id', 'incarnation'] as const) {
    if (event[field] !== undefined && typeof event[field] !== 'string') return `${field} is no string`;
  }
  if (event.updatedBy !== undefined && event.updatedBy !== null && typeof event.updatedBy !== 'string')
    return 'updatedBy is neither a string nor null';
  if (event.deleted !== undefined && event.deleted !== true) return 'deleted is not true';
  if (event.deleted !== true && !('newValue' in event)) return 'no newValue, and it is no delete';
  const oldType = event.oldType ?? event.type;
  return (
    ('newValue' in event ? valueFault(event.type, event.newValue, event.name, 'newValue') : undefined) ??
    ('oldValue' in event ? valueFault(oldType as VariableType, event.oldValue, event.name, 'oldValue') : undefined)
  );
}

/** Why `wire` cannot be a value of a variable of `type`, whatever its constraints; `undefined` when it can. */
function valueFault(type: VariableType, wire: unknown, name: string, field: string): string | undefined {
  // A choice is checked against its choices, which the event does not carry: any string may be one.
  if (type === 'choice') return typeof wire === 'string' ? undefined : `${field}: must be a string, got ${shown(wire)}`;
  try {
    checkStoredValue(type, decodeValue(type, wire), {}, name);
    return undefined;
  } catch (error) {
    return `${field}: ${messageOf(error)}`;
  }
}
