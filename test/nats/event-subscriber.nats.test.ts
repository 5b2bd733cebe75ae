import { describe, expect, it, onTestFinished } from 'vitest';
import { subscribeEvents, type InspectedEvent, type TetherEvent } from '../../src/index.js';
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

/**
 * What a TypeScript caller writes: `switch (event.kind)` narrows `data` to what a node publishes for that kind. The
 * `@ts-expect-error` lines are checked by `npm run typecheck`: one over a line that compiles is itself an error there.
 */
function summary(event: TetherEvent): string {
  switch (event.kind) {
    case 'var':
      // @ts-expect-error: a variable event has no reason
      void event.data.reason;
      return `var ${event.data.name} v${event.data.version} = ${JSON.stringify(event.data.newValue)}`;
    case 'module':
      // @ts-expect-error: a module event has no version
      void event.data.version;
      return `module ${event.data.moduleId} ${event.data.type}`;
    case 'session':
      return `session ${event.data.sessionId} ${event.data.reason}`;
  }
}

/** The inspect feed's messages carry a snapshot, whatever their kind. */
function process(event: InspectedEvent): string {
  // @ts-expect-error: no kind of the inspect feed is a variable
  if (event.kind === 'var') return 'never';
  return `${event.kind} ${event.data.machine} ${event.data.status}`;
}

describe('subscribeEvents, typed', () => {
  it("hands a node's events in the shape their kind narrows to: a variable change, then the session's end", async () => {
    const node = await fx().runtime(fx().buckets());
    const seen: string[] = [];
    const subscription = await subscribeEvents({ servers: fx().server.url, sessionId: 'typed' }, (event) => {
      seen.push(summary(event));
    });
    onTestFinished(() => subscription.stop());
    const session = await node.session('typed');
    await session.defineVariable('t', 'float', 0.7);
    await session.delete();
    await waitFor(() => seen.length === 2, { message: 'the variable event and the session end' });
    expect(seen).toEqual(['var t v1 = 0.7', 'session typed deleted']);
  });

  it('hands the inspect feed its snapshots with their kind', async () => {
    const seen: string[] = [];
    const subscription = await subscribeEvents({ servers: fx().server.url, feed: 'inspect' }, (event) => {
      seen.push(process(event));
    });
    onTestFinished(() => subscription.stop());
    nc().publish(
      'tether.v1.inspect.s.session',
      enc.encode('{"type":"snapshot","machine":"session","status":"active"}'),
    );
    await waitFor(() => seen.length === 1, { message: 'the snapshot' });
    expect(seen).toEqual(['session session active']);
  });
});
