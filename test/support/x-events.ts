/**
 * The variable events and changes the remote-watch tests speak of: events of the integer variable `x` of session `s`,
 * as a node publishes them, and a change as those tests compare it.
 * @module
 */
import type { VariableEvent } from '../../src/nats/variable-events.js';
import type { VariableChange } from '../../src/session/session-context.js';

/** An event of the integer variable `x` of session `s`, with `fields` (its identity, version, values, revision...). */
export function xEvent(fields: Omit<VariableEvent, 'sessionId' | 'name' | 'type'>): VariableEvent {
  return { sessionId: 's', name: 'x', type: 'integer', ...fields };
}

/** A change as the tests compare it: `[version, oldValue, newValue, updatedBy, deleted, gap]`. */
export const briefChange = (change: VariableChange): unknown[] => [
  change.version,
  change.oldValue,
  change.newValue,
  change.updatedBy,
  change.deleted ?? false,
  change.gap ?? false,
];
