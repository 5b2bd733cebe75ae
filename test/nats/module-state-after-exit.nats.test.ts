/**
 * A node's process of a module ends while it executes (its session stopped on that node, a crash): a stopped actor
 * tells no state, so after the execution's `module.failed` the node publishes `module.state` `idle` itself. The
 * module lives on (its spec is in the bucket, describe() answers idle), and neither a plain subscriber nor a remote
 * `onState` listener may be left at `executing` (docs/protocol.md, Module events: "… module.result (or
 * module.failed), module.state idle").
 */
import { describe, expect, it } from 'vitest';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { useOpenAIStub } from '../support/openai-stub.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);
const { stub, llm } = useOpenAIStub();
const predict = { type: 'Predict', signature: 'question:string -> answer:string', bindings: { temperature: 't' } };

describe('module state after the process running an execution ends', () => {
  it('tells remote onState listeners and plain subscribers the module is idle again, as describe() says', async () => {
    const node = await fx().runtime(fx().buckets(), { llm: llm() });
    const client = await fx().client();
    const session = await client.session('state-after-exit');
    await session.defineVariable('t', 'float', 0.5);
    const qa = await session.module('qa', predict);
    const raw: { type: string; state?: string; executionId?: string }[] = [];
    const subscription = nc().subscribe('tether.v1.events.state-after-exit.module.qa', {
      callback: (_error, msg) => raw.push(msg.json()),
    });
    await nc().flush();
    const heard: [string, string | undefined][] = [];
    qa.onState((state, executionId) => heard.push([state, executionId]));
    await waitFor(() => heard.length === 1, { message: 'the state read' });

    stub().hold();
    const running = qa.execute({ question: 'q' }).catch((error: unknown) => error);
    await waitFor(() => heard.at(-1)?.[0] === 'executing', { message: 'executing' });
    // The node's embedded handle of the session is stopped: its processes there end, the module (spec) lives on.
    await (await node.session('state-after-exit')).stop();
    expect(await running).toMatchObject({ code: 'process_exited' });
    stub().release();
    await waitFor(() => raw.some((event) => event.type === 'module.failed'), { message: 'module.failed' });
    // The module exists and is idle.
    expect((await qa.describe()).state).toBe('idle');
    await nc().flush();
    await new Promise((resolve) => setTimeout(resolve, 300));
    subscription.unsubscribe();

    // The plain feed's last state of the module, and the listener's, must be idle, as describe() says.
    const states = raw.filter((event) => event.type === 'module.state');
    expect(states.at(-1)).toMatchObject({ state: 'idle' });
    // After the failure, as a finished execution's idle comes after its result.
    expect(raw.lastIndexOf(states.at(-1)!)).toBeGreaterThan(raw.findIndex((event) => event.type === 'module.failed'));
    expect(heard.at(-1)).toEqual(['idle', undefined]);
  });
});
