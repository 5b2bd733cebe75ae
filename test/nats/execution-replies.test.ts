import { afterEach, describe, expect, it, vi } from 'vitest';
import { ValidationError } from '../../src/index.js';
import { createExecutionReplies, executionReplyKey, type ExecutionReplies } from '../../src/nats/execution-replies.js';
import { collectGarbage } from '../support/collect-garbage.js';

const bytes = (text: string) => new TextEncoder().encode(text);
const key = (executionId: string) => executionReplyKey('s1', 'qa', executionId);

/**
 * Has `replies` keep the reply to one execution, and returns a weak reference to the reply's bytes. The request is let
 * go as a served one is (what it keeps of its reply lives as long as it does).
 */
function keepOne(replies: ExecutionReplies): WeakRef<Uint8Array> {
  const request = {};
  replies.started(request, key('e1'));
  const data = bytes('{"result":"large"}');
  replies.replied(request, data);
  return new WeakRef(data);
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('execution-replies', () => {
  // The defaults NatsNodeOptions.executionReplies promises: each could change with every other test passing.
  it('keeps the last 4096 replies, for 2 minutes, within 32 MiB, when given no limits', () => {
    let now = 1000;
    vi.spyOn(performance, 'now').mockImplementation(() => now);
    const replies = createExecutionReplies();
    const reply = (executionId: string, data: Uint8Array): void => {
      const request = {};
      replies.started(request, key(executionId));
      replies.replied(request, data);
    };
    for (let i = 0; i <= 4096; i++) reply(`e${i}`, bytes('{}'));
    expect(replies.outcome(key('e0'))).toBe('unknown');
    expect(replies.outcome(key('e1'))).toMatchObject({ data: bytes('{}') });
    now += 119_999;
    expect(replies.outcome(key('e4096'))).toMatchObject({ data: bytes('{}') });
    now += 1;
    expect(replies.outcome(key('e4096'))).toBe('unknown');

    const half = 16 * 1024 * 1024;
    reply('big1', new Uint8Array(half));
    reply('big2', new Uint8Array(half));
    expect(replies.outcome(key('big1'))).not.toBe('unknown');
    reply('last', bytes('{}'));
    expect([replies.outcome(key('big1')), replies.outcome(key('big2'))].map((kept) => kept === 'unknown')).toEqual([
      true,
      false,
    ]);
    replies.clear();
  });

  // Found by a soak review: replies were let go only as others came or were asked for, so an idle node held up to
  // 32 MiB of them for as long as it stayed idle.
  it('lets a reply go at its age on an idle node, with nothing else coming', async () => {
    const replies = createExecutionReplies({ maxAgeMs: 50 });
    const kept = keepOne(replies);
    await new Promise((resolve) => setTimeout(resolve, 150));
    collectGarbage();
    expect(kept.deref()).toBeUndefined();
  });

  // Found by a second review: the sweep's timer kept a stopped node's replies, up to 32 MiB, for their whole age.
  it('lets every reply go at once when cleared, as a node stops', async () => {
    const replies = createExecutionReplies();
    const kept = keepOne(replies);
    replies.clear();
    expect(replies.outcome(key('e1'))).toBe('unknown');
    await new Promise((resolve) => setTimeout(resolve, 0));
    collectGarbage();
    expect(kept.deref()).toBeUndefined();
  });

  it('says running while the request is in hand, then gives its reply as sent', () => {
    const replies = createExecutionReplies();
    const request = {};
    expect(replies.outcome(key('e1'))).toBe('unknown');
    replies.started(request, key('e1'));
    expect(replies.outcome(key('e1'))).toBe('running');
    const error = { status: 504, description: 'call_timeout: timed out' };
    replies.replied(request, bytes('{"error":{}}'), error);
    expect(replies.outcome(key('e1'))).toEqual({ data: bytes('{"error":{}}'), error, at: expect.any(Number) });
  });

  it('gives a reply only to the session, module and execution it was kept under', () => {
    const replies = createExecutionReplies();
    const request = {};
    replies.started(request, key('e1'));
    replies.replied(request, bytes('{"result":1}'));
    expect(replies.outcome(executionReplyKey('s2', 'qa', 'e1'))).toBe('unknown');
    expect(replies.outcome(executionReplyKey('s1', 'other', 'e1'))).toBe('unknown');
    expect(replies.outcome(key('e2'))).toBe('unknown');
  });

  it('says running, not the old reply, while a request resent under the same id runs, then gives the new reply', () => {
    const replies = createExecutionReplies();
    const refused = {};
    replies.started(refused, key('e1'));
    replies.replied(refused, bytes('{"error":{"code":"revision_unknown"}}'), { status: 409, description: 'refused' });
    // The client's resend of the same execution, as after a revision_unknown refusal.
    const resent = {};
    replies.started(resent, key('e1'));
    expect(replies.outcome(key('e1'))).toBe('running');
    replies.replied(resent, bytes('{"result":1}'));
    expect(replies.outcome(key('e1'))).toMatchObject({ data: bytes('{"result":1}'), error: undefined });
  });

  it('gives unknown, not the old refusal, once a request resent under the same id replied too large to keep', () => {
    const replies = createExecutionReplies({ maxBytes: 64 });
    const refused = {};
    replies.started(refused, key('e1'));
    replies.replied(refused, bytes('{"error":{"code":"revision_unknown"}}'), { status: 409, description: 'refused' });
    const resent = {};
    replies.started(resent, key('e1'));
    replies.replied(resent, bytes(`{"result":"${'x'.repeat(100)}"}`));
    // The resend ran: a client that lost its reply must not take the refusal for its answer.
    expect(replies.outcome(key('e1'))).toBe('unknown');
  });

  it('says running while one of two requests sent at once under the same id still runs', () => {
    const replies = createExecutionReplies();
    const first = {};
    const second = {};
    replies.started(first, key('e1'));
    replies.started(second, key('e1'));
    replies.replied(first, bytes('{"result":1}'));
    expect(replies.outcome(key('e1'))).toBe('running');
  });

  it('leaves an execution relayed to it that still runs to the relaying node when every node is asked', () => {
    const replies = createExecutionReplies();
    const relayed = {};
    replies.started(relayed, key('e1'), true);
    // Asked by name (the relaying node asks its owner so), it says running; asked with every node, nothing.
    expect(replies.outcome(key('e1'))).toBe('running');
    expect(replies.outcome(key('e1'), true)).toBe('unknown');
    // Its own execution of the same id (a careless client) still runs here as well: running to every node too.
    const own = {};
    replies.started(own, key('e1'));
    expect(replies.outcome(key('e1'), true)).toBe('running');
    replies.replied(own, bytes('{"result":2}'));
    expect(replies.outcome(key('e1'), true)).toBe('unknown');
    // Once it finished, its kept reply is the caller's to have, whoever asks.
    replies.replied(relayed, bytes('{"result":1}'));
    expect(replies.outcome(key('e1'), true)).toMatchObject({ data: bytes('{"result":1}') });
  });

  it('keeps nothing of a request it was never told had started', () => {
    const replies = createExecutionReplies();
    replies.replied({}, bytes('{"result":1}'));
    expect(replies.outcome(key('e1'))).toBe('unknown');
  });

  it('lets the oldest replies go past maxCount and past maxBytes', () => {
    const replies = createExecutionReplies({ maxCount: 2, maxBytes: 10 });
    const finish = (id: string, body: string) => {
      const request = {};
      replies.started(request, key(id));
      replies.replied(request, bytes(body));
    };
    finish('a', '1');
    finish('b', '2');
    finish('c', '3');
    expect(replies.outcome(key('a'))).toBe('unknown');
    expect(replies.outcome(key('b'))).not.toBe('unknown');
    finish('d', '12345678');
    // 1 + 8 bytes fit in 10; 'b' went as the count was passed, 'c' stays.
    expect(replies.outcome(key('b'))).toBe('unknown');
    expect(replies.outcome(key('c'))).not.toBe('unknown');
    finish('e', '1234567890');
    expect(replies.outcome(key('c'))).toBe('unknown');
    expect(replies.outcome(key('d'))).toBe('unknown');
    expect(replies.outcome(key('e'))).not.toBe('unknown');
  });

  it('keeps the error reply that went out instead of a reply whose send failed, unless the id started again', () => {
    const replies = createExecutionReplies();
    const request = {};
    replies.started(request, key('e1'));
    replies.replied(request, bytes('{"result":"large"}'));
    const error = { status: 500, description: 'MAX_PAYLOAD_EXCEEDED' };
    replies.amend(request, bytes('{"error":{}}'), error);
    expect(replies.outcome(key('e1'))).toMatchObject({ data: bytes('{"error":{}}'), error });

    // Resent under the same id meanwhile: the new start's reply is the one its caller waits for, not the old amend.
    const earlier = {};
    replies.started(earlier, key('e2'));
    replies.replied(earlier, bytes('{"result":1}'));
    const resent = {};
    replies.started(resent, key('e2'));
    replies.amend(earlier, bytes('{"error":{}}'), error);
    expect(replies.outcome(key('e2'))).toBe('running');
    replies.replied(resent, bytes('{"result":2}'));
    replies.amend(earlier, bytes('{"error":{}}'), error);
    expect(replies.outcome(key('e2'))).toMatchObject({ data: bytes('{"result":2}'), error: undefined });
  });

  it('keeps the error reply that went out instead of one too large to keep', () => {
    const replies = createExecutionReplies({ maxBytes: 16 });
    const request = {};
    replies.started(request, key('e1'));
    replies.replied(request, bytes('{"result":"over sixteen bytes"}'));
    expect(replies.outcome(key('e1'))).toBe('unknown');
    const error = { status: 500, description: 'MAX_PAYLOAD_EXCEEDED' };
    replies.amend(request, bytes('{"error":{}}'), error);
    expect(replies.outcome(key('e1'))).toMatchObject({ data: bytes('{"error":{}}'), error });
  });

  it('keeps none with maxCount 0, and refuses a limit that is not a whole number from 0', () => {
    const replies = createExecutionReplies({ maxCount: 0 });
    const request = {};
    replies.started(request, key('e1'));
    replies.replied(request, bytes('{}'));
    expect(replies.outcome(key('e1'))).toBe('unknown');
    expect(() => createExecutionReplies({ maxAgeMs: -1 })).toThrow(ValidationError);
    expect(() => createExecutionReplies({ maxCount: 1.5 })).toThrow(ValidationError);
    expect(() => createExecutionReplies({ maxCuont: 1 } as never)).toThrow(/unknown option executionReplies.maxCuont/);
  });
});
