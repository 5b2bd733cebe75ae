import { describe, expect, it } from 'vitest';
import { type Runtime } from '../../src/index.js';
import { useNatsFixture } from '../support/nats-fixture.js';
import { useOpenAIStub, text, type RecordedRequest } from '../support/openai-stub.js';
import { servedBy } from '../support/tether-node.js';

const fx = useNatsFixture();
const stubbed = useOpenAIStub();
const llm = stubbed.llm;
const qaSpec = {
  type: 'Predict',
  signature: 'question:string -> answer:string',
  bindings: { temperature: 'llm_temperature' },
  maxRetries: 0,
} as const;

/** How many executions the node's own process of the module has completed (0 when it never ran one). */
async function completedOn(runtime: Runtime, sessionId: string, moduleId: string): Promise<number> {
  try {
    return (await (await (await runtime.session(sessionId)).module(moduleId)).describe()).completed;
  } catch {
    return 0;
  }
}

/** The index of the node whose model sent `request`: node `i` is given the API key `sk-node-<i>`. */
function sentBy(request: RecordedRequest | undefined): number {
  const match = /^Bearer sk-node-(\d+)$/.exec(String(request?.headers.authorization));
  if (!match) throw new Error(`no node's key on the request: ${String(request?.headers.authorization)}`);
  return Number(match[1]);
}

describe('modules over NATS, two nodes', () => {
  it('uses a variable set through the client in the next execution on either node, spreading executions over both', async () => {
    stubbed.stub().fallback = () => text('Answer: ok');
    const buckets = fx().buckets();
    const nodes = [
      await fx().node(buckets, { llm: llm('sk-node-0') }),
      await fx().node(buckets, { llm: llm('sk-node-1') }),
    ];
    const client = await fx().client();
    const session = await client.session('two');
    await session.defineVariable('llm_temperature', 'float', 0.05, { constraints: { min: 0, max: 2 } });
    const qa = await session.module('qa', qaSpec);
    let crossNode = 0;
    for (let i = 1; i <= 20; i++) {
      const temperature = i / 20;
      const [, writer] = await servedBy(nodes, () => session.setVariable('llm_temperature', temperature));
      const result = await qa.execute({ question: `q${i}` });
      expect(result.provenance).toEqual({ llm_temperature: i + 1 });
      expect(result.output.answer).toBe('ok');
      // One request per execution, in order: the last one recorded is this execution's.
      const request = stubbed.stub().chatRequests.at(-1);
      expect(request?.body.temperature).toBe(temperature);
      if (nodes[sentBy(request)] !== writer) crossNode += 1;
    }
    // Writes and executions each land on either node: twenty executions all on their write's node would mean
    // the node that ran them never had to see another node's write.
    expect(crossNode).toBeGreaterThan(0);
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => qa.execute({ question: `c${i}` })));
    expect(results.every((r) => r.provenance.llm_temperature === 21)).toBe(true);
    expect(
      stubbed
        .stub()
        .chatRequests.slice(-30)
        .every((r) => r.body.temperature === 1),
    ).toBe(true);
    const counts = await Promise.all(nodes.map((node) => completedOn(node.runtime, 'two', 'qa')));
    expect(counts[0]! + counts[1]!).toBe(50);
    expect(counts[0]).toBeGreaterThan(0);
    expect(counts[1]).toBeGreaterThan(0);
  }, 60_000);
});
