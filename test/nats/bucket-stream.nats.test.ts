import { describe, expect, it } from 'vitest';
import { InternalError } from '../../src/errors.js';
import { removeMessagesUpTo } from '../../src/nats/bucket-stream.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';

const plain = usePlainConnection(useNatsFixture());

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('removeMessagesUpTo', () => {
  it("removes a subject's messages up to a sequence, one by one, and leaves other subjects and later ones", async () => {
    const stream = `remove_upto_${process.pid}_${Date.now()}`;
    const manager = await plain().jetstreamManager();
    await manager.streams.add({ name: stream, subjects: [`${stream}.>`] });
    const js = plain().jetstream();
    for (let i = 0; i < 6; i += 1) await js.publish(`${stream}.${i % 2 === 0 ? 'gone' : 'kept'}.${i}`);
    const upTo = (await js.publish(`${stream}.gone.6`)).seq;
    await js.publish(`${stream}.gone.after`);

    expect(await removeMessagesUpTo(manager, stream, `${stream}.gone.>`, upTo)).toEqual({ removed: 4, kept: 0 });
    // Run again, it finds nothing left to remove.
    expect(await removeMessagesUpTo(manager, stream, `${stream}.gone.>`, upTo)).toEqual({ removed: 0, kept: 0 });

    const left: string[] = [];
    for (let seq = 1; seq <= upTo + 1; seq += 1) {
      const message = await manager.streams.getMessage(stream, { seq }).catch(() => undefined);
      if (message) left.push(message.subject.slice(stream.length + 1));
    }
    expect(left).toEqual(['kept.1', 'kept.3', 'kept.5', 'gone.after']);
  });

  it('keeps the messages the stream took after `writtenBy`, and counts them', async () => {
    const stream = `remove_aged_${process.pid}_${Date.now()}`;
    const manager = await plain().jetstreamManager();
    await manager.streams.add({ name: stream, subjects: [`${stream}.>`] });
    const js = plain().jetstream();
    await js.publish(`${stream}.k.old1`);
    await js.publish(`${stream}.k.old2`);
    await pause(20);
    const writtenBy = Date.now();
    await pause(20);
    await js.publish(`${stream}.k.new1`);
    const upTo = (await js.publish(`${stream}.k.new2`)).seq;

    expect(await removeMessagesUpTo(manager, stream, `${stream}.k.>`, upTo, writtenBy)).toEqual({
      removed: 2,
      kept: 2,
    });
    const info = await manager.streams.info(stream);
    expect(info.state.messages).toBe(2);
    expect(info.state.first_seq).toBe(3);
  });
});

describe('removeMessagesUpTo on a stream that refuses a delete', () => {
  it('throws an internal_error naming the stream and the message, and counts nothing removed', async () => {
    const stream = `remove_denied_${process.pid}_${Date.now()}`;
    const manager = await plain().jetstreamManager();
    await manager.streams.add({ name: stream, subjects: [`${stream}.>`], deny_delete: true });
    const js = plain().jetstream();
    await js.publish(`${stream}.k`);
    const upTo = (await js.publish(`${stream}.k`)).seq;

    const error = await removeMessagesUpTo(manager, stream, `${stream}.k`, upTo).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InternalError);
    expect(error).toMatchObject({ code: 'internal_error', details: { stream, seq: 1 } });
    expect((error as Error).message).toBe(
      `stream '${stream}' refused to delete its message 1: message delete not permitted`,
    );
    expect((await manager.streams.info(stream)).state.messages).toBe(2);
  });

  it('passes by a message another removed between its read and its delete', async () => {
    const stream = `remove_raced_${process.pid}_${Date.now()}`;
    const manager = await plain().jetstreamManager();
    await manager.streams.add({ name: stream, subjects: [`${stream}.>`] });
    const js = plain().jetstream();
    for (let i = 0; i < 3; i += 1) await js.publish(`${stream}.k`);
    // Another remover gets to each message first: this one's delete finds it gone.
    const racing = new Proxy(manager.streams, {
      get: (target, name, receiver) =>
        name === 'deleteMessage'
          ? async (name: string, seq: number, erase?: boolean) => {
              await target.deleteMessage(name, seq, erase);
              return target.deleteMessage(name, seq, erase);
            }
          : Reflect.get(target, name, receiver),
    });
    const raced = Object.assign(Object.create(manager) as typeof manager, { streams: racing });

    expect(await removeMessagesUpTo(raced, stream, `${stream}.k`, 3)).toEqual({ removed: 0, kept: 0 });
    expect((await manager.streams.info(stream)).state.messages).toBe(0);
  });
});
