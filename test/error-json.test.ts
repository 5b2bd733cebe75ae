import { describe, expect, it } from 'vitest';
import {
  BridgeError,
  HeldOutputDroppedError,
  RemovalsBacklogError,
  BucketResetError,
  InternalError,
  MaxRestartIntensityError,
  ModelAnswerError,
  NatsConnectionError,
  NoProcError,
  StoreLimitError,
  errorFromJSON,
  errorToJSON,
} from '../src/errors.js';

describe('errorFromJSON', () => {
  it('rebuilds a known code into its class, with the sender message', () => {
    const rebuilt = errorFromJSON(errorToJSON(new NoProcError('worker')));
    expect(rebuilt).toBeInstanceOf(NoProcError);
    expect(rebuilt).toMatchObject({ code: 'noproc', target: 'worker', message: "no process 'worker' is alive" });
  });

  it("rebuilds a node's connection error (a relayed execution's) with its status", () => {
    const sent = new NatsConnectionError('disconnected', 'nats://n:4222', 'whether it ran is unknown');
    const rebuilt = errorFromJSON(errorToJSON(sent));
    expect(rebuilt).toBeInstanceOf(NatsConnectionError);
    expect(rebuilt).toMatchObject({ code: 'nats_connection', status: 'disconnected', server: 'nats://n:4222' });
    expect(rebuilt.message).toBe(sent.message);
  });

  it('rebuilds a JetStream limit with its bucket, key, limit and outcome', () => {
    const sent = new StoreLimitError('tether_vars', 's1.x', 'put', 'storage', 'resource limits exceeded for account');
    const rebuilt = errorFromJSON(errorToJSON(sent));
    expect(rebuilt).toBeInstanceOf(StoreLimitError);
    expect(rebuilt).toMatchObject({
      code: 'store_limit_reached',
      bucket: 'tether_vars',
      key: 's1.x',
      operation: 'put',
      limit: 'storage',
      outcome: 'not_applied',
    });
    expect(rebuilt.message).toBe(sent.message);
  });

  it("rebuilds a supervisor's giving up with its child, the child's last exit and the limits", () => {
    const sent = new MaxRestartIntensityError('sup', 'a', 'crash: boom', 3, 5);
    const rebuilt = errorFromJSON(errorToJSON(sent));
    expect(rebuilt).toBeInstanceOf(MaxRestartIntensityError);
    expect(rebuilt).toMatchObject({
      supervisor: 'sup',
      childId: 'a',
      childExit: 'crash: boom',
      maxRestarts: 3,
      maxSeconds: 5,
    });
    expect(rebuilt.message).toBe(sent.message);
  });

  it("rebuilds a node's dropped held output with its count, reason and bytes", () => {
    const sent = new HeldOutputDroppedError(3, 'not_back', 1200, { waitedMs: 6000 });
    const rebuilt = errorFromJSON(errorToJSON(sent));
    expect(rebuilt).toBeInstanceOf(HeldOutputDroppedError);
    expect(rebuilt).toMatchObject({ code: 'held_output_dropped', count: 3, reason: 'not_back', bytes: 1200 });
    expect(rebuilt.details).toMatchObject({ waitedMs: 6000 });
    expect(rebuilt.message).toBe(sent.message);
  });

  it("rebuilds a node's removals backlog with its bucket, limit and first key left undone", () => {
    const sent = new RemovalsBacklogError('vars', 100_000, 's1.k9');
    const rebuilt = errorFromJSON(errorToJSON(sent));
    expect(rebuilt).toBeInstanceOf(RemovalsBacklogError);
    expect(rebuilt).toMatchObject({ code: 'removals_backlog', bucket: 'vars', limit: 100_000, key: 's1.k9' });
    expect(rebuilt.message).toBe(sent.message);
  });

  it("rebuilds a node's bucket reset with its bucket and both revisions", () => {
    const sent = new BucketResetError('vars', 40, 12);
    const rebuilt = errorFromJSON(errorToJSON(sent));
    expect(rebuilt).toBeInstanceOf(BucketResetError);
    expect(rebuilt).toMatchObject({ code: 'bucket_reset', bucket: 'vars', appliedRevision: 40, lastRevision: 12 });
    expect(rebuilt.message).toBe(sent.message);
  });

  it("rebuilds a kind this version does not know as its class's general one, keeping the sender's message", () => {
    const rebuilt = errorFromJSON({
      code: 'model_answer_invalid',
      message: 'the answer could not be used: too polite',
      details: { provider: 'openai', reason: 'too_polite', problem: 'too polite' },
    });
    expect(rebuilt).toBeInstanceOf(ModelAnswerError);
    expect(rebuilt).toMatchObject({ reason: 'invalid', message: 'the answer could not be used: too polite' });
  });

  it('throws InternalError for anything but an object with a string code', () => {
    for (const serialized of [null, undefined, 'noproc', 42, {}, { code: 7 }, new Error('plain')])
      expect(() => errorFromJSON(serialized)).toThrow(InternalError);
  });

  it('takes what JSON.parse gave, typed unknown, without a cast (this file fails to compile otherwise)', () => {
    const parsed: unknown = JSON.parse('{"code":"noproc","message":"m","details":{"target":"worker"}}');
    const rebuilt = errorFromJSON(parsed);
    expect(rebuilt).toBeInstanceOf(NoProcError);
    expect(rebuilt).toMatchObject({ code: 'noproc', message: 'm', target: 'worker' });
  });

  it('looks codes up among its own factories only, not Object.prototype', () => {
    for (const code of ['toString', 'constructor', 'hasOwnProperty', '__proto__']) {
      const rebuilt = errorFromJSON({ code, message: 'm' });
      expect(rebuilt).toBeInstanceOf(BridgeError);
      expect(rebuilt).toMatchObject({ code, message: 'm', details: {} });
    }
  });

  it('takes the code as the message, and no details, when those are malformed', () => {
    const rebuilt = errorFromJSON({ code: 'odd', message: 5, details: 'x' });
    expect(rebuilt).toMatchObject({ code: 'odd', message: 'odd', details: {} });
  });
});
