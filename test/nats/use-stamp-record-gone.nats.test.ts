/**
 * A use of a session whose record is near its expiry is stamped first (SessionExpiry.fresh): when that stamp finds
 * the record gone (the session was deleted by a node that died before telling anyone), the use is refused with
 * `session_not_found` and never runs: no prompt reaches the provider, no write lands.
 *
 * With a TTL of 4 s the nodes stamp each period P = 1 s, and a use needs a stamp first once the record is
 * TTL - 2P = 2 s old; the scans would remove the record only at TTL + P = 5 s.
 */
import { describe, expect, it } from 'vitest';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { text, useOpenAIStub } from '../support/openai-stub.js';
import { settledCode } from '../support/settled-code.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);
const { stub, llm } = useOpenAIStub();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const QA = { type: 'Predict', signature: 'question:string -> answer:string', maxRetries: 0 } as const;
const TTL = 4_000;

describe('a use stamped first that finds the session record gone', () => {
  async function idleSessionPurgedBehindTheNode(sessionId: string) {
    stub().fallback = () => text('Answer: ran');
    const buckets = fx().buckets();
    const node = await fx().runtime(buckets, { sessionTtlMs: TTL, llm: llm() });
    const session = await node.session(sessionId);
    await session.defineVariable('x', 'integer', 1);
    const qa = await session.module('qa', QA);
    // Idle past TTL - 2P: its next use is stamped before it is served.
    await sleep(2_300);
    await (await nc().jetstream().views.kv(buckets.sessionsBucket)).purge(sessionId);
    return { buckets, node, session, qa };
  }

  it('refuses an execution with session_not_found, and the prompt never reaches the provider', async () => {
    const { node, qa } = await idleSessionPurgedBehindTheNode('gone-exec');

    const refused = qa.execute({ question: 'still there?' });
    await expect(refused).rejects.toMatchObject({ code: 'session_not_found' });
    await expect(refused).rejects.toThrow(/gone-exec/);
    expect(stub().chatRequests).toHaveLength(0);
    expect(node.sessionIds()).not.toContain('gone-exec');
  });

  it('refuses a write with session_not_found, and the value is not stored', async () => {
    const { buckets, session } = await idleSessionPurgedBehindTheNode('gone-write');

    expect(await settledCode(session.setVariable('x', 2))).toBe('session_not_found');
    const variables = await nc().jetstream().views.kv(buckets.variablesBucket);
    const stored = await variables.get('gone-write.x');
    expect(stored?.json<{ value: number }>().value).toBe(1);
  });
});
