import { describe, expect, it } from 'vitest';
import { PayloadTooLargeError } from '../../src/errors.js';
import { replyTooLarge } from '../../src/nats/reply-limit.js';
import { createSubjects } from '../../src/nats/subjects.js';

const subjects = createSubjects();

describe('replyTooLarge', () => {
  it('names the operation and session of a reply too large, and how to ask for less', () => {
    // What a caller reads when a reply cannot be sent: the hint is the only way it learns how to get its answer.
    for (const [subject, operation, hint] of [
      [subjects.variable('s1', 'getMany'), 'var.getMany', 'ask for fewer names at a time'],
      [subjects.variable('s1', 'export'), 'var.export', 'read the variables with var.list a page at a time instead'],
      [subjects.variable('s1', 'list'), 'var.list', 'ask for a page at a time with "after"'],
      [
        subjects.variable('s1', 'history'),
        'var.history',
        'ask for a page at a time with "after", or for the newest versions with "limit"',
      ],
      [subjects.moduleList('s1'), 'module.list', 'ask for fewer modules at a time with limit and after'],
      [subjects.module('s1', 'qa', 'execute'), 'module.execute', 'the execution ran, but its output is too large'],
    ] as const) {
      const error = replyTooLarge(subjects, subject, 2000, 1000);
      expect(error, operation).toBeInstanceOf(PayloadTooLargeError);
      expect(error.message, operation).toMatch(
        new RegExp(
          `^reply to ${operation.replace('.', '\\.')} of session 's1' is 2000 bytes, over the NATS max_payload`,
        ),
      );
      expect(error.message, operation).toContain(`; ${hint}`);
      expect(error.details, operation).toEqual({
        what: `reply to ${operation} of session 's1'`,
        size: 2000,
        limit: 1000,
        operation,
        sessionId: 's1',
      });
    }
  });

  it('names no session for sessions.list, and says only that a reply to another subject is too large', () => {
    expect(replyTooLarge(subjects, subjects.sessionsList(), 2000, 1000)).toMatchObject({
      message:
        'reply to sessions.list is 2000 bytes, over the NATS max_payload of 1000 bytes; ask for fewer sessions at a ' +
        'time with a smaller limit',
      details: { operation: 'sessions.list' },
    });
    const foreign = replyTooLarge(subjects, 'other.thing', 2000, 1000);
    expect(foreign.message).toBe('reply to other.thing is 2000 bytes, over the NATS max_payload of 1000 bytes');
    expect(foreign.details).not.toHaveProperty('sessionId');
  });

  it('says a setMany whose reply is too large was carried out, so the caller does not send it again', () => {
    expect(replyTooLarge(subjects, subjects.variable('s1', 'setMany'), 2000, 1000)).toMatchObject({
      message: expect.stringContaining('the batch was carried out'),
      details: { operation: 'var.setMany', sessionId: 's1', outcome: 'applied' },
    });
    expect(replyTooLarge(subjects, subjects.variable('s1', 'getMany'), 2000, 1000).details).not.toHaveProperty(
      'outcome',
    );
  });
});
