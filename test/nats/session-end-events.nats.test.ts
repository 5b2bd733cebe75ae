import { describe, expect, it } from 'vitest';
import type { ModuleEvent } from '../../src/index.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { useOpenAIStub } from '../support/openai-stub.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);
const stubbed = useOpenAIStub();
const QA = { type: 'Predict', signature: 'question:string -> answer:string', maxRetries: 0 } as const;

describe("a session's end and its modules' events", () => {
  it('publishes the failure of each execution its modules held, on either node, before the end itself', async () => {
    const buckets = fx().buckets();
    await fx().node(buckets, { llm: stubbed.llm() });
    await fx().node(buckets, { llm: stubbed.llm() });
    const client = await fx().client();
    const session = await client.session('ending');
    const qa = await session.module('qa', QA);
    const heard: string[] = [];
    qa.on('module.failed', (event) => heard.push(event.error.code));
    const wire: string[] = [];
    const subscription = nc().subscribe('tether.v1.events.ending.>', {
      callback: (_e, msg) => {
        const event = msg.json<ModuleEvent | { reason: string }>();
        if ('reason' in event) wire.push(`session ${event.reason}`);
        else if (event.type === 'module.failed') wire.push(event.error.code);
      },
    });
    await nc().flush();

    stubbed.stub().hold();
    // Two at once: the queue group spreads them, so the nodes may hold one each.
    const executions = [1, 2].map(() => qa.execute({ question: 'q' }).catch((error: { code: string }) => error.code));
    await waitFor(() => stubbed.stub().chatRequests.length >= 1, { message: 'an execution at the provider' });
    await session.delete();

    expect(await Promise.all(executions)).toEqual(['process_exited', 'process_exited']);
    await waitFor(() => wire.includes('session deleted'), { message: 'the end published' });
    expect(wire.at(-1)).toBe('session deleted');
    expect(wire).toEqual(['process_exited', 'process_exited', 'session deleted']);
    // The remote handle stops listening at the end: it heard each failure before.
    expect(heard).toEqual(['process_exited', 'process_exited']);
    subscription.unsubscribe();
    stubbed.stub().release();
  });
});
