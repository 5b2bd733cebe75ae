import { describe, expect, it } from 'vitest';
import { HeldOutputDroppedError, PayloadTooLargeError } from '../../src/errors.js';
import { createEventOutbox } from '../../src/nats/event-outbox.js';
import { createHeldOutput } from '../../src/nats/held-output.js';
import { closingConnection } from '../support/closing-connection.js';
import { fakeConnection } from '../support/fake-publish-connection.js';
import { manualLink } from '../support/manual-link.js';

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

  it('sends what stands for an event over the server max_payload, keeping its place in the order', async () => {
    const { connection, published } = fakeConnection({ maxPayload: 100 });
    const sizes: [number, number][] = [];
    const outbox = createEventOutbox(connection, () => {});
    outbox.publish('a', { n: 1 });
    outbox.publish('big', { text: 'x'.repeat(200) }, (size, limit) => {
      sizes.push([size, limit]);
      return { omitted: true };
    });
    outbox.publish('c', { n: 3 }, () => ({ unused: true }));
    await outbox.flushed();
    expect(published).toEqual([
      { subject: 'a', body: { n: 1 } },
      { subject: 'big', body: { omitted: true } },
      { subject: 'c', body: { n: 3 } },
    ]);
    expect(sizes).toEqual([[211, 100]]);
  });

  it('publishes an event of exactly max_payload bytes as it is, encoded here or beforehand', async () => {
    const { connection, published } = fakeConnection({ maxPayload: 100 });
    const reports: unknown[] = [];
    const outbox = createEventOutbox(connection, (error) => reports.push(error));
    // `{"text":"…"}`: 11 bytes around the text.
    const event = { text: 'x'.repeat(89) };
    const encoded = new TextEncoder().encode(JSON.stringify(event));
    expect(encoded).toHaveLength(100);
    outbox.publish('exact', event, () => ({ omitted: true }));
    outbox.publishEncoded('exact-encoded', encoded);
    outbox.publishEncoded('over', new TextEncoder().encode(JSON.stringify({ text: 'x'.repeat(90) })));
    await outbox.flushed();
    expect(published).toEqual([
      { subject: 'exact', body: event },
      { subject: 'exact-encoded', body: event },
    ]);
    expect(reports).toEqual([expect.objectContaining({ what: 'event on over', size: 101, limit: 100 })]);
  });

  it('reports a typed payload_too_large for an event over max_payload that nothing stands for', async () => {
    const { connection, published } = fakeConnection({ maxPayload: 100 });
    const reports: unknown[] = [];
    const outbox = createEventOutbox(connection, (error) => reports.push(error));
    outbox.publish('big', { text: 'x'.repeat(200) });
    outbox.publish('still-big', { text: 'x'.repeat(200) }, () => ({ text: 'y'.repeat(200) }));
    outbox.publish('small', { n: 1 });
    await outbox.flushed();
    expect(published.map((p) => p.subject)).toEqual(['small']);
    expect(reports).toHaveLength(2);
    expect(reports[0]).toBeInstanceOf(PayloadTooLargeError);
    expect(reports[0]).toMatchObject({ code: 'payload_too_large', what: 'event on big', size: 211, limit: 100 });
    expect(String((reports[0] as Error).message)).toBe(
      'event on big is 211 bytes, over the NATS max_payload of 100 bytes',
    );
    expect(reports[1]).toMatchObject({ what: 'event on still-big', size: 211 });
  });

  it('never encodes an event measured over max_payload, only what stands for it', async () => {
    const { connection, published } = fakeConnection({ maxPayload: 100 });
    const reports: unknown[] = [];
    const outbox = createEventOutbox(connection, (error) => reports.push(error));
    let encodings = 0;
    // JSON.stringify calls toJSON: each call is one encoding of the event.
    const big = {
      toJSON() {
        encodings += 1;
        return { text: 'x'.repeat(200) };
      },
    };
    const sizes: [number, number][] = [];
    outbox.publish(
      'big',
      big,
      (size, limit) => {
        sizes.push([size, limit]);
        return { omitted: true };
      },
      (event) => (event === big ? 211 : JSON.stringify(event).length),
    );
    // A substitute measured over the limit is not encoded either: reported, with the event's measured size.
    let substituteEncodings = 0;
    const stillBig = {
      toJSON() {
        substituteEncodings += 1;
        return { text: 'y'.repeat(200) };
      },
    };
    outbox.publish(
      'still-big',
      { n: 1 },
      () => stillBig,
      (event) => (event === stillBig ? 211 : 150),
    );
    await outbox.flushed();
    expect(published).toEqual([{ subject: 'big', body: { omitted: true } }]);
    expect(sizes).toEqual([[211, 100]]);
    expect(encodings).toBe(0);
    expect(substituteEncodings).toBe(0);
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ code: 'payload_too_large', what: 'event on still-big', size: 150 });
  });

  it('queues events encoded beforehand in order with the others, and reports one over max_payload', async () => {
    const { connection, published } = fakeConnection({ maxPayload: 100 });
    const reports: unknown[] = [];
    const outbox = createEventOutbox(connection, (error) => reports.push(error));
    const state = new TextEncoder().encode('{"state":"idle"}');
    outbox.publishEncoded('s', state);
    outbox.publish('a', { n: 1 });
    outbox.publishEncoded('big', new TextEncoder().encode(JSON.stringify({ text: 'x'.repeat(200) })));
    outbox.publishEncoded('s', state);
    await outbox.flushed();
    expect(published).toEqual([
      { subject: 's', body: { state: 'idle' } },
      { subject: 'a', body: { n: 1 } },
      { subject: 's', body: { state: 'idle' } },
    ]);
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ code: 'payload_too_large', what: 'event on big', size: 211, limit: 100 });
  });

  it('is flushed at once when nothing is queued', async () => {
    const { connection } = fakeConnection();
    await expect(createEventOutbox(connection, () => {}).flushed()).resolves.toBeUndefined();
  });

  describe("with the node's held output", () => {
    it('holds what is sent while the connection is down, in order with the replies, until it is back', () => {
      const { connection, published } = fakeConnection();
      const { link, drop, back } = manualLink();
      const output = createHeldOutput(link, () => {}, closingConnection().connection);
      const outbox = createEventOutbox(connection, () => {}, output);
      const reply = (n: number) => output.send(() => connection.publish(`reply.${n}`, encode({ n })), 10);
      drop();
      // A request's events, then its reply (see endpoint-handler.ts), then another's.
      outbox.publish('event.1', { n: 1 });
      outbox.sendNow();
      reply(1);
      outbox.publish('event.2', { n: 2 });
      outbox.sendNow();
      reply(2);
      expect(published).toEqual([]);

      back();
      expect(published.map((p) => p.subject)).toEqual(['event.1', 'reply.1', 'event.2', 'reply.2']);
      // Up again, nothing is held.
      outbox.publish('event.3', { n: 3 });
      outbox.sendNow();
      expect(published.map((p) => p.subject).at(-1)).toBe('event.3');
    });

    // Found by a review: the events held were dropped when the connection closed, and onError never heard of them.
    it('tells onError of the events it held, as one held_output_dropped, when the connection then closes for good', async () => {
      const closing = closingConnection();
      const { connection, published } = fakeConnection({ closing: closing.connection });
      const { link, drop } = manualLink();
      const reported: unknown[] = [];
      const output = createHeldOutput(link, (error) => reported.push(error), closing.connection);
      const outbox = createEventOutbox(connection, (error) => reported.push(error), output);
      drop();
      outbox.publish('event.1', { n: 1 });
      outbox.publish('event.2', { n: 2 });
      outbox.sendNow();

      closing.close();
      await closing.connection.closed();
      expect(published).toEqual([]);
      expect(reported).toEqual([expect.any(HeldOutputDroppedError)]);
      expect(reported[0]).toMatchObject({
        code: 'held_output_dropped',
        message:
          '2 of the replies, notices and events due while the connection was down could not be sent when it closed ' +
          'for good',
        details: { count: 2, reason: 'send_failed', bytes: 14, when: 'closed' },
        cause: new Error('CONNECTION_CLOSED'),
      });
    });

    it('sends at once once the output is stopped, with nothing left to release it', () => {
      const { connection, published } = fakeConnection();
      const { link, drop } = manualLink();
      const output = createHeldOutput(link, () => {}, closingConnection().connection);
      const outbox = createEventOutbox(connection, () => {}, output);
      drop();
      output.stop();
      outbox.publish('late', { n: 1 });
      outbox.sendNow();
      expect(published.map((p) => p.subject)).toEqual(['late']);
    });
  });
});

const encode = (body: object): Uint8Array => new TextEncoder().encode(JSON.stringify(body));
