/**
 * What a node answers a raw module request whose subject, rather than its body, names something it cannot serve: a
 * session id that is no session id (any NATS client can put one in a subject token the wildcard subscriptions take),
 * or, on the forward subjects of a module that stays on its node, an operation no node passes on. Each is a typed
 * refusal naming what was wrong, and changes nothing.
 */
import { describe, expect, it } from 'vitest';
import { createEchoModel } from '../../src/index.js';
import { useModuleForwardNodes } from '../support/module-forward-nodes.js';
import { rawReply } from '../support/raw-request.js';

const { fx, nc, ownerAndOther } = useModuleForwardNodes();

/** A raw request to `subject` with an empty JSON body, as any NATS client sends it. */
const raw = (subject: string) => rawReply(nc(), subject, '{}');

describe('module subject refusals', () => {
  it('refuses a session id in a module subject that is no session id, naming it, before anything is looked up', async () => {
    await fx().node(fx().buckets(), { llm: createEchoModel() });
    for (const subject of [
      'tether.v1.session.bad:id.module.qa.describe',
      'tether.v1.session.bad:id.module.qa.execute',
      'tether.v1.session.bad:id.module.list',
    ]) {
      const reply = await raw(subject);
      expect(reply.errorCode, subject).toBe('400');
      expect(reply.body.error, subject).toEqual({
        code: 'validation_failed',
        message:
          "invalid session id 'bad:id': must hold only ASCII letters (A-Z, a-z), digits, _ or -, 1 to 128 characters",
        details: { constraint: 'sessionId', sessionId: 'bad:id' },
      });
    }
  });

  it('refuses an operation no node passes on, sent to the forward subject of a module, naming the subject', async () => {
    await ownerAndOther({ llm: createEchoModel() });
    const subject = 'tether.v1.forward.s1.module.local.stop';
    const reply = await raw(subject);
    expect(reply.errorCode).toBe('400');
    expect(reply.body.error).toMatchObject({
      code: 'validation_failed',
      message: `subject '${subject}' names no passed-on module request`,
    });
    // Refused, not served as a stop: the module is still there, through either node.
    const session = await (await fx().client()).session('s1');
    expect((await session.modules()).map((m) => m.moduleId)).toEqual(['local']);
    expect((await (await session.module('local')).describe()).moduleType).toBe('ReAct');
  });
});
