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

/** Version `version` of x (identity `x-1`), value 10 × version, written by `updatedBy` at store revision 10 + version. */
export const xWrite = (version: number, updatedBy: string | null): VariableEvent =>
  xEvent({
    id: 'x-1',
    oldValue: (version - 1) * 10,
    newValue: version * 10,
    version,
    updatedBy,
    revision: 10 + version,
  });

/** A change as the tests compare it: `[version, oldValue, newValue, updatedBy, deleted, gap]`. */
export const briefChange = (change: VariableChange): unknown[] => [
  change.version,
  change.oldValue,
  change.newValue,
  change.updatedBy,
  change.deleted ?? false,
  change.gap ?? false,
];
