/**
 * A cancel of an execution that a node is passing on to the node its module stays on, while that owner is briefly
 * away (its connection blipping): the relaying node rides out the owner's "no responders", sending the execute again
 * for a while. The cancel found nothing anywhere, so every node remembers it (docs/protocol.md, `module.cancel`), and
 * the relaying node heeds it before each send: the execution never runs, and its caller hears `execution_aborted`,
 * `not_applied`. The owner, away when the cancel came, would have run it.
 */
import type { Msg } from 'nats';
import { describe, expect, it, onTestFinished } from 'vitest';
import { NatsConnectionError, createEchoModel, type ModuleTool } from '../../src/index.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { startTcpProxy } from '../support/tcp-proxy.js';
import { isNotice, rawRequest } from '../support/raw-request.js';
import { moduleResultIds } from '../support/module-result-ids.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);
const enc = new TextEncoder();
const echoTool: ModuleTool = { name: 'echo', description: 'Repeats its input', func: (args) => args };
const localSpec = {
  type: 'ReAct',
  signature: 'question:string -> answer:string',
  maxRetries: 0,
  tools: [echoTool],
} as const;

describe('a cancel of an execution being passed on to a module that stays on its node', () => {
  it('keeps the execution from running once the owner is back', async () => {
    const proxy = await startTcpProxy(fx().server.url);
    onTestFinished(() => proxy.close());
    const statuses: string[] = [];
    const buckets = fx().buckets();
    // Owner A behind a proxy the test cuts; node B serves the module's subjects meanwhile.
    const a = await fx().node(buckets, {
      llm: createEchoModel(),
      servers: proxy.url,
      nats: { reconnect: { waitMs: 100 } },
      onError: (error) => void (error instanceof NatsConnectionError && statuses.push(error.status)),
    });
    await fx().node(buckets, { llm: createEchoModel() });
    await (await a.runtime.session('s1')).module('local', localSpec);

    const results = moduleResultIds(nc(), 's1', 'local');

    proxy.cut();
    await waitFor(() => statuses.includes('disconnected'), { message: 'the owner cut off' });

    // Only node B takes it: it passes it on, and rides out the owner's absence.
    const received: Msg[] = rawRequest(nc(), 'tether.v1.session.s1.module.local.execute', {
      inputs: { question: 'please do not run' },
      executionId: 'ex-cancelled',
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    // The caller gives up on it: the cancel is answered (no node had it in its mailbox).
    const cancel = await nc().request(
      'tether.v1.session.s1.module.local.cancel',
      enc.encode(JSON.stringify({ executionId: 'ex-cancelled', reason: 'user gave up' })),
      { timeout: 5000 },
    );
    expect(cancel.json<{ result: { cancelled: boolean } }>().result).toBeDefined();

    proxy.restore();
    const reply = await waitFor(() => received.find((msg) => !isNotice(msg)), {
      message: 'the reply',
      timeout: 10_000,
    });
    await new Promise((resolve) => setTimeout(resolve, 300));

    // The execution was cancelled before it reached the module: it must not run.
    expect(results).not.toContain('ex-cancelled');
    expect(reply.headers?.get('Nats-Service-Error-Code') ?? '').not.toBe('');
    expect(reply.json<{ error?: { code: string; details?: { outcome?: string } } }>().error).toMatchObject({
      code: 'execution_aborted',
      details: { outcome: 'not_applied' },
    });
  });
});
