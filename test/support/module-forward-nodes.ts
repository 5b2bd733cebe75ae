/**
 * Two Tether nodes on shared buckets and a module that stays on the node that created it, reached by raw requests
 * through either: the setup of the tests of a node passing a module's requests on to its owner
 * (module-forward-*.nats.test.ts).
 */
import type { Msg } from 'nats';
import type { ModuleTool } from '../../src/index.js';
import { useNatsFixture, usePlainConnection } from './nats-fixture.js';
import { useOpenAIStub } from './openai-stub.js';
import { isNotice, rawRequest as sendRaw } from './raw-request.js';
import type { TestNode } from './tether-node.js';
import { waitFor } from './wait-for.js';

const predict = { type: 'Predict', signature: 'question:string -> answer:string', maxRetries: 0 } as const;
const echoTool: ModuleTool = { name: 'echo', description: 'Repeats its input', func: (args) => args };
/** A spec holding a function cannot be written to the modules bucket: the module stays on the node creating it. */
export const localSpec = { ...predict, type: 'ReAct', tools: [echoTool] };

/** The reply among `received`, once it came (within `timeout` ms, `waitFor`'s 5 s by default). */
export async function replyOf(received: Msg[], timeout?: number): Promise<Msg> {
  return waitFor(() => received.find((msg) => !isNotice(msg)), {
    message: 'the reply',
    ...(timeout ? { timeout } : {}),
  });
}

/** The error code of a reply, if it is an error. */
export const errorCode = (reply: Msg): string | undefined => reply.json<{ error?: { code: string } }>().error?.code;

/**
 * The file's NATS fixture, a plain connection to its server and the OpenAI-protocol stub (hooks registered in this
 * order), and the helpers that start the two nodes and send them raw requests.
 */
export function useModuleForwardNodes() {
  const fx = useNatsFixture();
  const nc = usePlainConnection(fx);
  const stubbed = useOpenAIStub();
  const enc = new TextEncoder();

  /** Two nodes on fresh buckets, and module `local` of session `s1` created through node A's embedded API. */
  async function ownerAndOther(options: Parameters<ReturnType<typeof fx>['node']>[1], servers?: string) {
    const buckets = fx().buckets();
    const a = await fx().node(buckets, { ...options, ...(servers ? { servers } : {}) });
    const b = await fx().node(buckets, options);
    const onA = await a.runtime.session('s1');
    await onA.defineVariable('temperature', 'float', 0.5);
    await onA.module('local', { ...localSpec, bindings: { temperature: 'temperature' } });
    return { a, b, onA };
  }

  /** A raw request (as any NATS client sends it) whose messages, acceptance notice included, are collected. */
  const rawRequest = (subject: string, body: object, withNotice = false): Msg[] =>
    sendRaw(nc(), subject, body, withNotice);

  /**
   * Sends executions of `local` (the stub holding each at the provider) until one reached node `b`, which passed it
   * on to the owner; the others are cancelled. Resolves to that execution's id and its messages so far.
   */
  async function forwardedExecution(
    b: TestNode,
    timeoutMs = 60_000,
  ): Promise<{ executionId: string; received: Msg[] }> {
    for (let i = 0; i < 30; i++) {
      const executionId = `run${i}`;
      const received = rawRequest(
        'tether.v1.session.s1.module.local.execute',
        { inputs: { question: `try ${i}` }, executionId, timeoutMs },
        true,
      );
      // Held at the provider, so every execution is announced by the node its request reached.
      await waitFor(() => received.some(isNotice), { message: `the acceptance notice of ${executionId}` });
      await waitFor(() => stubbed.stub().chatRequests.length === i + 1, { message: `${executionId} at the provider` });
      if (received.find(isNotice)!.headers!.get('Tether-Accepted-By') === b.serviceId) return { executionId, received };
      await nc().request('tether.v1.session.s1.module.local.cancel', enc.encode(JSON.stringify({ executionId })), {
        timeout: 5000,
      });
      await replyOf(received);
    }
    throw new Error('no execution reached node B in 30 tries');
  }

  return { fx, nc, stubbed, ownerAndOther, rawRequest, forwardedExecution };
}
