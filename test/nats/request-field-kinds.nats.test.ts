/**
 * A request written by hand (any NATS client, any language) that lacks a field or gives one of the wrong kind is
 * refused with `validation_failed` naming the field, what it must be and what it got, before any session or module
 * is touched. Each field reader of request-fields.ts is reached here through an operation that uses it: until this
 * file only the whole-number and JSON-value readers, and a missing `value`, were asserted over the wire.
 */
import { describe, expect, it } from 'vitest';
import { createEchoModel } from '../../src/index.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { rawReply } from '../support/raw-request.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);

/**
 * The refusal a field of the wrong kind gets: its message, and the details a client reads it by. A number is shown
 * as itself in the message (`got 5`), its kind in the details.
 */
const wrongKind = (field: string, expected: string, got: string, shown = got) => ({
  message: `field '${field}' must be ${expected}, got ${shown}`,
  details: { field, expected, got },
});
const missing = (field: string) => ({
  message: `missing field '${field}'`,
  details: { field, constraint: 'required' },
});

/** Sends each `[subject, payload, error]` raw and expects a 400 `validation_failed` reply matching `error`. */
async function expectRefusals(cases: readonly (readonly [string, string, object])[]): Promise<void> {
  for (const [subject, payload, error] of cases) {
    const reply = await rawReply(nc(), subject, payload);
    expect(reply.errorCode, `${subject} ${payload}`).toBe('400');
    expect(reply.body.error, `${subject} ${payload}`).toMatchObject({ code: 'validation_failed', ...error });
  }
}

describe('request fields of the wrong kind', () => {
  it('names the variable field a request lacks or gives as the wrong kind, and changes nothing', async () => {
    await fx().node(fx().buckets());
    await rawReply(nc(), 'tether.v1.session.kinds.open', '');
    await rawReply(nc(), 'tether.v1.session.kinds.var.define', '{"name":"x","type":"integer","value":1}');
    const op = (operation: string) => `tether.v1.session.kinds.var.${operation}`;
    await expectRefusals([
      [op('get'), '{"name":5}', wrongKind('name', 'a string', 'number', '5')],
      [op('get'), '{}', missing('name')],
      [op('describe'), '{"name":"x","fresh":"yes"}', wrongKind('fresh', 'a boolean', 'string')],
      [op('define'), '{"name":"y","value":1}', missing('type')],
      [
        op('define'),
        '{"name":"y","type":"integer","value":1,"options":[]}',
        wrongKind('options', 'an object', 'array'),
      ],
      [op('getMany'), '{"names":"x"}', wrongKind('names', 'an array', 'string')],
      [op('getMany'), '{}', missing('names')],
      // Not "lock owner for 'x' must be a string, got undefined": a client in another language sent no field.
      [op('lock'), '{"name":"x"}', missing('owner')],
      [op('unlock'), '{"name":"x"}', missing('owner')],
      [op('setMany'), '{"values":[["x",2]]}', wrongKind('values', 'an object', 'array')],
      [op('set'), '{"name":"x","value":2,"expectedId":7}', wrongKind('expectedId', 'a string', 'number', '7')],
      [op('list'), '{"pattern":["x"]}', wrongKind('pattern', 'a string', 'array')],
    ]);
    // Refused before the session was asked: the variable is as it was, and no `y` was defined.
    const list = await rawReply(nc(), op('list'), '{}');
    expect(list.body.result).toEqual([expect.objectContaining({ name: 'x', value: 1, version: 1 })]);
  });

  it('names the module field a request lacks or gives as the wrong kind, and creates or runs nothing', async () => {
    const node = await fx().node(fx().buckets(), { llm: createEchoModel() });
    await node.runtime.session('kinds');
    const op = (moduleId: string, operation: string) => `tether.v1.session.kinds.module.${moduleId}.${operation}`;
    await expectRefusals([
      [op('qa', 'create'), '{}', missing('spec')],
      [op('qa', 'create'), '{"spec":"Predict"}', { message: "field 'spec' must be a module spec object" }],
      [op('qa', 'create'), '{"spec":["Predict"]}', { details: { field: 'spec' } }],
      [op('qa', 'execute'), '{}', missing('inputs')],
      [op('qa', 'execute'), '{"inputs":"why?"}', wrongKind('inputs', 'an object', 'string')],
      [op('qa', 'execute'), '{"inputs":{},"executionId":7}', wrongKind('executionId', 'a string', 'number', '7')],
      [
        op('qa', 'execute'),
        '{"inputs":{},"executionId":"a b"}',
        {
          message: "invalid executionId 'a b': use 1-128 ASCII letters (A-Z, a-z), digits, '_' or '-'",
          details: { field: 'executionId' },
        },
      ],
      [op('qa', 'cancel'), '{}', missing('executionId')],
      [op('qa', 'cancel'), '{"executionId":"e1","reason":false}', wrongKind('reason', 'a string', 'boolean')],
    ]);
    // No module was created by any of them.
    const list = await rawReply(nc(), 'tether.v1.session.kinds.module.list', '{}');
    expect(list.body.result).toEqual([]);
  });
});
