import { describe, expect, it, onTestFinished } from 'vitest';
import { subscribeEvents, type TetherEvent } from '../../src/index.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);
const enc = new TextEncoder();

describe('subscribeEvents', () => {
  it("hands on one session's events split into session, kind and name, a payload that is no JSON as its text", async () => {
    const events: TetherEvent[] = [];
    const subscription = await subscribeEvents({ servers: fx().server.url, sessionId: 'ev' }, (event) => {
      events.push(event);
    });
    onTestFinished(() => subscription.stop());
    expect(subscription.subject).toBe('tether.v1.events.ev.>');
    // Another session's event is not this subscription's; a tool shows what it cannot parse rather than drop it.
    nc().publish('tether.v1.events.other.var.x', enc.encode('{"value":0}'));
    nc().publish('tether.v1.events.ev.var.x', enc.encode('{"value":1}'));
    nc().publish('tether.v1.events.ev.module.qa', enc.encode('not json {'));
    await waitFor(() => events.length === 2, { message: "the session's two events" });
    expect(events).toEqual([
      { subject: 'tether.v1.events.ev.var.x', sessionId: 'ev', kind: 'var', name: 'x', data: { value: 1 } },
      { subject: 'tether.v1.events.ev.module.qa', sessionId: 'ev', kind: 'module', name: 'qa', data: 'not json {' },
    ]);
  });
});
