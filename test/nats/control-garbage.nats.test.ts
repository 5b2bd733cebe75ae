import { describe, expect, it } from 'vitest';
import { createEchoModel } from '../../src/index.js';
import { createSubjects } from '../../src/nats/subjects.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);
const enc = new TextEncoder();
const dec = new TextDecoder();
const subjects = createSubjects();

/**
 * Found by a review: one `null` published to a control subject threw inside nats.js's protocol reader on every node,
 * which closed it. The nodes stayed subscribed but answered nothing again, and told no one.
 */
describe('a control message that is no JSON object', () => {
  it('is ignored by every node, which goes on serving requests and controls alike', async () => {
    const buckets = fx().buckets();
    const nodes = [
      await fx().node(buckets, { llm: createEchoModel() }),
      await fx().node(buckets, { llm: createEchoModel() }),
    ];
    const session = await nodes[0]!.runtime.session('s1');
    await session.defineVariable('x', 'integer', 1);
    await session.module('qa', { type: 'Predict', signature: 'question:string -> answer:string' });

    const controls = [
      subjects.moduleControl('s1', 'qa', 'cancel'),
      subjects.moduleControl('s1', 'qa', 'stop'),
      subjects.sessionControl('s1'),
    ];
    for (const subject of controls) {
      for (const body of ['null', '[]', '5', '"x"', '{', 'true']) {
        nc().publish(subject, enc.encode(body));
        nc().publish(subject, enc.encode(body), { reply: `_INBOX.garbage.${subject}` });
      }
    }
    await nc().flush();

    // Each node still hears its connection: its own writes go through it (KV), and so do the requests the queue
    // group hands it, some of these ten to each node.
    for (const [index, node] of nodes.entries()) {
      expect(await (await node.runtime.session('s1')).setVariable('x', index + 2)).toMatchObject({ value: index + 2 });
    }
    // These requests carry no revision (`Tether-Min-Revision`) to wait for: each node's watch must have applied the
    // other's last write first, which also shows its watch still runs.
    for (const node of nodes) {
      const seen = await node.runtime.session('s1');
      await waitFor(async () => (await seen.getVariable('x')) === 3, { message: 'each node applies the last write' });
    }
    for (let i = 0; i < 10; i++) {
      const reply = await nc().request('tether.v1.session.s1.var.get', enc.encode(JSON.stringify({ name: 'x' })), {
        timeout: 5000,
      });
      expect(JSON.parse(dec.decode(reply.data))).toMatchObject({ result: { value: 3 } });
    }
    const executed = await nc().request(
      'tether.v1.session.s1.module.qa.execute',
      enc.encode('{"inputs":{"question":"q"}}'),
      {
        timeout: 10_000,
      },
    );
    expect(JSON.parse(dec.decode(executed.data))).toMatchObject({ result: { moduleType: 'Predict' } });
    // And a control that is one still works: the module stops on every node.
    await (await session.module('qa')).stop();
    await expect(session.module('qa')).rejects.toMatchObject({ code: 'module_not_found' });
  });
});
