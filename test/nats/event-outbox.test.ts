import type { NatsConnection } from 'nats';
import { describe, expect, it } from 'vitest';
import { createEventOutbox } from '../../src/nats/event-outbox.js';

/** The two members of a connection the outbox uses, recording what was published. */
function fakeConnection(options: { failOn?: string } = {}) {
  const published: { subject: string; body: unknown }[] = [];
  let closed = false;
  const connection = {
    isClosed: () => closed,
    publish(subject: string, data: Uint8Array) {
      if (subject === options.failOn) throw new Error(`cannot publish on ${subject}`);
      published.push({ subject, body: JSON.parse(new TextDecoder().decode(data)) });
    },
  } as unknown as NatsConnection;
  return { connection, published, close: () => (closed = true) };
}

const nextMacrotask = () => new Promise((resolve) => setImmediate(resolve));

describe('event outbox', () => {
  it('holds events until the macrotask is over, then publishes them in the order they were queued', async () => {
    const { connection, published } = fakeConnection();
    const outbox = createEventOutbox(connection, () => {});
    outbox.publish('a', { n: 1 });
    outbox.publish('b', { n: 2 });
    await Promise.resolve();
    expect(published).toEqual([]);
    await outbox.flushed();
    expect(published).toEqual([
      { subject: 'a', body: { n: 1 } },
      { subject: 'b', body: { n: 2 } },
    ]);
    outbox.publish('c', { n: 3 });
    await nextMacrotask();
    expect(published.map((p) => p.subject)).toEqual(['a', 'b', 'c']);
  });

  it('publishes everything queued at once on sendNow, and nothing twice', async () => {
    const { connection, published } = fakeConnection();
    const outbox = createEventOutbox(connection, () => {});
    outbox.publish('a', { n: 1 });
    outbox.publish('b', { n: 2 });
    outbox.sendNow();
    expect(published.map((p) => p.subject)).toEqual(['a', 'b']);
    await outbox.flushed();
    expect(published.map((p) => p.subject)).toEqual(['a', 'b']);
  });

  it('sends an event as it was when published, whatever happens to the object afterwards', async () => {
    const { connection, published } = fakeConnection();
    const outbox = createEventOutbox(connection, () => {});
    const event = { answer: 'as emitted' };
    outbox.publish('a', event);
    event.answer = 'changed by a caller after the reply';
    await outbox.flushed();
    expect(published).toEqual([{ subject: 'a', body: { answer: 'as emitted' } }]);
  });

  it('keeps publishing and settles when the reporter itself throws', async () => {
    const { connection, published } = fakeConnection({ failOn: 'bad' });
    const outbox = createEventOutbox(connection, () => {
      throw new Error('reporter down');
    });
    outbox.publish('bad', { n: 1 });
    outbox.publish('good', { n: 2 });
    await outbox.flushed();
    expect(published.map((p) => p.subject)).toEqual(['good']);
  });

  it('drops what is queued when the connection has closed meanwhile', async () => {
    const { connection, published, close } = fakeConnection();
    const outbox = createEventOutbox(connection, () => {});
    outbox.publish('a', { n: 1 });
    close();
    await outbox.flushed();
    expect(published).toEqual([]);
  });

  it('reports a publish that fails, naming its subject, and still publishes the rest', async () => {
    const { connection, published } = fakeConnection({ failOn: 'bad' });
    const reports: string[] = [];
    const outbox = createEventOutbox(connection, (error, where) => reports.push(`${where}: ${String(error)}`));
    outbox.publish('bad', { n: 1 });
    outbox.publish('good', { n: 2 });
    await outbox.flushed();
    expect(published.map((p) => p.subject)).toEqual(['good']);
    expect(reports).toEqual(['publishing an event on bad: Error: cannot publish on bad']);
  });

  it('is flushed at once when nothing is queued', async () => {
    const { connection } = fakeConnection();
    await expect(createEventOutbox(connection, () => {}).flushed()).resolves.toBeUndefined();
  });
});
