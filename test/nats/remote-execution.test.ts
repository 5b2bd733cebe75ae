import { describe, expect, it } from 'vitest';
import {
  CallTimeoutError,
  ExecutionUnknownError,
  NatsConnectionError,
  NodeLostError,
  ValidationError,
} from '../../src/errors.js';
import { cancelReason, executionFailure } from '../../src/nats/remote-execution.js';

const target = { sessionId: 's', moduleId: 'qa', executionId: 'e-1' };

describe('remote-execution', () => {
  it('cancels an execution no node acknowledged, or whose wait the client lost its connection during', () => {
    // A node that took it late, or that still runs it unseen, is stopped by the cancel: nobody gets its answer.
    expect(cancelReason(new ExecutionUnknownError('s', 'qa', 'e-1', undefined), undefined)).toBe(
      'no node acknowledged it in time',
    );
    expect(cancelReason(new ExecutionUnknownError('s', 'qa', 'e-1', 'node-a'), undefined)).toBe(
      'no node acknowledged it in time',
    );
    const dropped = new NatsConnectionError('disconnected', 'nats://x:4222', 'no reply', {
      details: { outcome: 'unknown' },
    });
    expect(cancelReason(dropped, undefined)).toBe('the client lost its NATS connection');
    expect(cancelReason(new NodeLostError('s', 'qa', 'e-1', 'node-a'), undefined)).toBe('node node-a lost');
  });

  it('sends no cancel for an execution that never left or that a node refused', () => {
    // Closed before sending, or a refusal of the node: nothing runs anywhere.
    expect(cancelReason(new NatsConnectionError('closed', 'nats://x:4222'), undefined)).toBeUndefined();
    expect(cancelReason(new ValidationError('bad inputs'), undefined)).toBeUndefined();
    const unsent = new CallTimeoutError('revision 7', 1000, { details: { outcome: 'not_applied' } });
    expect(cancelReason(unsent, undefined)).toBeUndefined();
  });

  it("names the execution in a timeout of the client's own wait, as an embedded handle's timeout does", () => {
    const own = new CallTimeoutError('tether.v1.session.s.module.qa.execute', 122_000, {
      details: { outcome: 'unknown' },
    });
    const named = executionFailure(own, target) as CallTimeoutError;
    expect(named).toBeInstanceOf(CallTimeoutError);
    expect(named.details).toMatchObject({ outcome: 'unknown', sessionId: 's', moduleId: 'qa', executionId: 'e-1' });
    expect([named.target, named.timeoutMs, named.cause]).toEqual([own.target, 122_000, own]);
    // The node's own timeout names its execution already: passed on as it is.
    const nodes = new CallTimeoutError('module qa', 1000, { details: { executionId: 'e-1', stage: 'execute' } });
    expect(executionFailure(nodes, target)).toBe(nodes);
  });
});
