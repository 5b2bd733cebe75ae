/**
 * A module's `date` and `datetime` output fields: Ax gives them as `Date`s, and a remote handle gives the same as an
 * embedded one (the node names them in `outputDates`, see output-dates.ts), frozen alike.
 */
import { describe, expect, it } from 'vitest';
import type { ExecutionResult } from '../../src/index.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { text, useOpenAIStub } from '../support/openai-stub.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);
const { stub, llm } = useOpenAIStub();

const SPEC = { type: 'Predict', signature: 'question:string -> when:date, at:datetime', maxRetries: 0 };
const ANSWER = 'When: 2024-05-06\nAt: 2024-05-06T10:11:12Z';
const WHEN = '2024-05-06T00:00:00.000Z';
const AT = '2024-05-06T10:11:12.000Z';

/** The module `qa` of session `sessionId` through a node's own handle and through a client. */
async function bothHandles(sessionId: string) {
  const node = await fx().runtime(fx().buckets(), { llm: llm() });
  const remote = await (await (await fx().client()).session(sessionId)).module('qa', SPEC);
  const embedded = await (await node.session(sessionId)).module('qa');
  return { embedded, remote };
}

/** Whether setting `date`'s year throws a TypeError; either way, its time afterwards. */
function trySetting(date: Date): { throws: boolean; after: string } {
  let throws = false;
  try {
    date.setUTCFullYear(1999);
  } catch (error) {
    throws = error instanceof TypeError;
  }
  return { throws, after: date.toISOString() };
}

describe('date output fields', () => {
  it('are Dates from a remote handle as from an embedded one, in a result and a module.result event', async () => {
    const { embedded, remote } = await bothHandles('dates');
    stub().fallback = () => text(ANSWER);
    const heard: ExecutionResult[] = [];
    remote.on('module.result', (event) => heard.push(event.result));

    const fromEmbedded = await embedded.execute({ question: 'q' });
    const fromRemote = await remote.execute({ question: 'q' });
    await waitFor(() => heard.length === 2, { message: 'both results heard' });

    expect(fromEmbedded.output).toEqual({ when: new Date(WHEN), at: new Date(AT) });
    for (const result of [fromRemote, ...heard]) {
      expect(result.output.when).toBeInstanceOf(Date);
      expect(result.output).toEqual(fromEmbedded.output);
      // What the node sent to say so is the wire's, not the result's.
      expect(result).not.toHaveProperty('outputDates');
    }
  });

  it('reach a plain NATS subscriber as ISO text, named by JSON Pointers in outputDates', async () => {
    const { remote } = await bothHandles('wire');
    stub().fallback = () => text(ANSWER);
    const events: Record<string, unknown>[] = [];
    const subscription = nc().subscribe('tether.v1.events.wire.module.qa', {
      callback: (_error, msg) => events.push(msg.json()),
    });
    await nc().flush();

    await remote.execute({ question: 'q' });
    await waitFor(() => events.some((event) => event.type === 'module.result'), { message: 'the result event' });
    subscription.unsubscribe();

    const { result } = events.find((event) => event.type === 'module.result') as { result: Record<string, unknown> };
    expect(result.output).toEqual({ when: WHEN, at: AT });
    expect([...(result.outputDates as string[])].sort()).toEqual(['/at', '/when']);
  });

  it('cannot be changed by one holder under another, embedded or remote', async () => {
    const { embedded, remote } = await bothHandles('frozen');
    stub().fallback = () => text(ANSWER);
    // A listener that changes what it got, before the caller reads the same result.
    embedded.on('module.result', (event) => trySetting(event.result.output.when as Date));

    const fromEmbedded = await embedded.execute({ question: 'q' });
    const fromRemote = await remote.execute({ question: 'q' });

    for (const result of [fromEmbedded, fromRemote]) {
      expect(Object.isFrozen(result.output.when)).toBe(true);
      expect(trySetting(result.output.when as Date)).toEqual({ throws: true, after: WHEN });
      // Still a Date as any other: its class, its JSON, its equality.
      expect(Object.getPrototypeOf(result.output.when)).toBe(Date.prototype);
      expect(JSON.stringify(result.output)).toBe(JSON.stringify({ when: WHEN, at: AT }));
    }
  });
});
