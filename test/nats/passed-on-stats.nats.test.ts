import { Empty } from 'nats';
import { describe, expect, it } from 'vitest';
import { createEchoModel } from '../../src/index.js';
import { rawReply } from '../support/raw-request.js';
import { servedBy, type TestNode } from '../support/tether-node.js';
import { useModuleForwardNodes } from '../support/module-forward-nodes.js';

const { nc, ownerAndOther } = useModuleForwardNodes();

interface EndpointStatsReply {
  readonly endpoints: { name: string; num_requests: number; data: Record<string, unknown> }[];
}

/** The `data` of endpoint `name` in the `$SRV.STATS` of `node`, as `nats micro stats` shows it. */
async function dataOf(node: TestNode, name: string): Promise<Record<string, unknown>> {
  const stats = (await nc().request(`$SRV.STATS.tether.${node.serviceId}`, Empty)).json<EndpointStatsReply>();
  return stats.endpoints.find((endpoint) => endpoint.name === name)!.data;
}

describe('$SRV.STATS of requests passed on to the node that has the module', () => {
  it('counts them at the node that ran them, under passed_on, and once in replies at the node they reached', async () => {
    const { a, b } = await ownerAndOther({ llm: createEchoModel() });
    const subject = 'tether.v1.session.s1.module.local.execute';
    const reachedB = { ok: 0, failed: 0 };
    // The queue group picks a node at random: 40 tries reach node B fewer than twice once in 10^11 runs.
    for (let i = 0; i < 40 && (reachedB.ok < 2 || reachedB.failed < 1); i++) {
      // Every other one without its input: node A, which has the spec, refuses it.
      const body = i % 2 === 0 ? { inputs: { question: `q${i}` } } : { inputs: {} };
      const [reply, node] = await servedBy([b, a], () => rawReply(nc(), subject, JSON.stringify(body)));
      if (node !== b) continue;
      if (reply.errorCode === '') reachedB.ok += 1;
      else reachedB.failed += 1;
    }
    expect(reachedB.ok).toBeGreaterThanOrEqual(2);
    expect(reachedB.failed).toBeGreaterThanOrEqual(1);

    const passedOn = (await dataOf(a, 'module-execute')).passed_on as Record<string, number> & { last_error: string };
    expect(passedOn).toMatchObject({ replies: reachedB.ok + reachedB.failed, errors: reachedB.failed });
    expect(passedOn.processing_time).toBeGreaterThan(0);
    expect(passedOn.average_processing_time).toBe(Math.round(passedOn.processing_time! / passedOn.replies!));
    // Node B answered each of them, relaying A's answer: they count there as its own requests, once.
    const onB = await dataOf(b, 'module-execute');
    expect(onB).toMatchObject({ replies: reachedB.ok + reachedB.failed, errors: reachedB.failed });
    // The relayed refusal is B's last error as it is A's: the description its reply's header had.
    expect(onB.last_error).toMatch(/^validation_failed: .*question/);
    expect(passedOn.last_error).toBe(onB.last_error);
    expect(onB.passed_on).toEqual({
      replies: 0,
      errors: 0,
      processing_time: 0,
      average_processing_time: 0,
      last_error: '',
    });
    // The figures of A's own requests leave them out: the endpoint's replies are what num_requests counts.
    const stats = (await nc().request(`$SRV.STATS.tether.${a.serviceId}`, Empty)).json<EndpointStatsReply>();
    const execute = stats.endpoints.find((endpoint) => endpoint.name === 'module-execute')!;
    expect(execute.data.replies).toBe(execute.num_requests);
  }, 15_000);
});
