import { describe, expect, it } from 'vitest';
import { variableEventFault } from '../../src/nats/variable-event-check.js';
import { withoutOldValue, type VariableEvent } from '../../src/nats/variable-events.js';

const event: VariableEvent = {
  sessionId: 's1',
  name: 'v',
  id: 'id-1',
  type: 'string',
  oldType: 'float',
  oldValue: 'NaN',
  newValue: 'x',
  version: 2,
  updatedBy: null,
  revision: 9,
};

describe('variable events', () => {
  it('stand for one too large without its old value, and without the type that value had', () => {
    // `oldType` says how to read `oldValue`: with no old value it would name the type of nothing.
    const { oldValue: _value, oldType: _type, ...rest } = event;
    expect(withoutOldValue(event)).toEqual({ ...rest, oldValueOmitted: true });
    expect(withoutOldValue(rest as VariableEvent)).toBeUndefined();
  });

  it('are told from other messages by their fields, as the remote client reads them', () => {
    expect(variableEventFault(event)).toBeUndefined();
    const { version: _version, ...noVersion } = event;
    const { revision: _revision, ...noRevision } = event;
    for (const other of [noVersion, noRevision, { ...event, id: 1 }, { ...event, oldType: 5 }, null, 'event'])
      expect(variableEventFault(other), JSON.stringify(other)).toEqual(expect.any(String));
  });
});
