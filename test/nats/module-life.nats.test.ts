import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { createLanguageModel, type ModuleEvent } from '../../src/index.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { OpenAIStub, text } from '../support/openai-stub.js';
import { rawRequest } from '../support/raw-request.js';
import { settledCode } from '../support/settled-code.js';
import { storedOfSession } from '../support/session-storage.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);
let stub: OpenAIStub;

beforeAll(async () => {
  stub = await OpenAIStub.start();
});
afterEach(() => {
  stub.requests.length = 0;
});
afterAll(async () => {
  await stub?.close();
});

const llm = () => createLanguageModel({ provider: 'openai', url: stub.url, key: 'sk-test', model: 'gpt-4o-mini' });
const QA = {
  type: 'Predict',
  signature: 'question:string -> answer:string',
  bindings: { temperature: 't' },
  maxRetries: 0,
} as const;

/** Every module event of session `sessionId` published from now on, as a plain subscriber hears it. */
async function moduleEvents(sessionId: string): Promise<ModuleEvent[]> {
  const events: ModuleEvent[] = [];
  const subscription = nc().subscribe(`tether.v1.events.${sessionId}.module.>`, {
    callback: (_error, msg) => events.push(msg.json()),
  });
  await nc().flush();
  onTestFinished(() => subscription.unsubscribe());
  return events;
}

describe('remote module handles and the life of their session', () => {
  it("never lets a module handle of a deleted session reach the id's next life; requests naming no life do", async () => {
    stub.fallback = () => text('Answer: private');
    const buckets = fx().buckets();
    const a = await fx().runtime(buckets, { llm: llm() });
    const b = await fx().runtime(buckets, { llm: llm() });
    const alice = await fx().client();
    const bob = await fx().client();
    const old = await alice.session('s');
    await old.defineVariable('t', 'float', 0.1);
    const oldQa = await old.module('qa', QA);
    expect((await oldQa.execute({ question: 'mine?' })).output).toEqual({ answer: 'private' });
    const [listedQa] = await old.modules();

    await old.delete();
    // Bob opens the id again, with a module of the same id, warm on both nodes: a node that runs it serves an
    // execution without waking it, so only the life check stands between Alice's handle and Bob's module.
    const mine = await bob.session('s');
    await mine.defineVariable('t', 'float', 0.9);
    const mineQa = await mine.module('qa', QA);
    const events = await moduleEvents('s');
    const onNodes = await Promise.all([a, b].map(async (node) => (await node.session('s')).module('qa')));
    const warm = await Promise.all(onNodes.map((handle) => handle.execute({ question: 'warm' })));
    const completed = async () => Promise.all(onNodes.map(async (handle) => (await handle.describe()).completed));
    expect(await completed()).toEqual([1, 1]);
    stub.requests.length = 0;

    // Whichever node answers, and whether the handle came from module() or modules().
    for (let i = 0; i < 4; i += 1) {
      for (const handle of [oldQa, listedQa!]) {
        expect(await settledCode(handle.execute({ question: 'yours?' }))).toBe('session_not_found');
        expect(await settledCode(handle.describe())).toBe('session_not_found');
      }
      expect(await settledCode(old.module('qa'))).toBe('session_not_found');
      expect(await settledCode(old.module('other', QA))).toBe('session_not_found');
      expect(await settledCode(old.modules())).toBe('session_not_found');
    }
    // Its module went with the old life: a stop has nothing left to do there, and reaches nothing of Bob's.
    for (const handle of [oldQa, listedQa!]) expect(await settledCode(handle.stop())).toBe('resolved');

    // Nothing ran: no LLM call, no execution counted, no event; Bob's module is still there, and alone.
    expect(stub.chatRequests).toEqual([]);
    expect(await completed()).toEqual([1, 1]);
    expect((await mine.modules()).map((handle) => handle.moduleId)).toEqual(['qa']);
    const last = await mineQa.execute({ question: 'still mine?' });
    expect(last.output).toEqual({ answer: 'private' });
    // Bob's executions are the only ones any event names (each node publishes an execution's events in order).
    const bobs = [...warm, last].map((result) => result.executionId).sort();
    const results = () => events.filter((event) => event.type === 'module.result');
    await waitFor(() => results().length >= 3, { message: "the results of Bob's executions" });
    const named = events.flatMap((event) => {
      if (event.type === 'module.result') return [event.result.executionId];
      return 'executionId' in event ? [event.executionId] : [];
    });
    expect([...new Set(named)].sort()).toEqual(bobs);

    // A handle got without opening knows no life, as the CLI's and other languages' requests carry none: those
    // reach whichever life is current.
    const unbound = await (await alice.session('s', { create: false })).module('qa');
    expect((await unbound.execute({ question: 'now?' })).output).toEqual({ answer: 'private' });
    const replies = rawRequest(nc(), 'tether.v1.session.s.module.qa.describe', {});
    await waitFor(() => replies.length === 1, { message: 'the raw describe was answered' });
    expect(replies[0]!.json()).toMatchObject({ result: { moduleId: 'qa', sessionId: 's' } });
  });

  // Found by a review: only the execution's sync counted as a use, so the session expired under it on every node
  // and the caller got process_exited (shutdown), the session and its module gone.
  it('keeps a session whose module runs an execution longer than the TTL', async () => {
    stub.fallback = () => text('Answer: thought long');
    stub.delayMs = 1500;
    onTestFinished(() => {
      stub.delayMs = 0;
    });
    const buckets = fx().buckets();
    const ttl = { sessionTtlMs: 400, hibernateAfterMs: 10_000, llm: llm() };
    await fx().runtime(buckets, ttl);
    await fx().runtime(buckets, ttl);
    const session = await (await fx().client()).session('busy');
    await session.defineVariable('t', 'float', 0.1);
    const qa = await session.module('qa', QA);

    expect((await qa.execute({ question: 'take your time' })).output).toEqual({ answer: 'thought long' });
    expect((await storedOfSession(nc(), buckets, 'busy')).modules).toBe(1);
    expect(await session.getVariable('t')).toBe(0.1);
  });

  it('answers session_expired to a module handle of an expired life, also once the id is opened again', async () => {
    stub.fallback = () => text('Answer: private');
    const buckets = fx().buckets();
    const ttl = { sessionTtlMs: 400, llm: llm() };
    await fx().runtime(buckets, ttl);
    await fx().runtime(buckets, ttl);
    const alice = await fx().client();
    const old = await alice.session('e');
    await old.defineVariable('t', 'float', 0.1);
    const oldQa = await old.module('qa', QA);

    // Nobody uses it: it expires on every node, which hear of it.
    await waitFor(async () => (await storedOfSession(nc(), buckets, 'e')).record === 0, {
      timeout: 10_000,
      message: 'the session expired',
    });
    expect(await settledCode(oldQa.describe())).toBe('session_expired');
    const mine = await (await fx().client()).session('e');
    await mine.defineVariable('t', 'float', 0.9);
    await mine.module('qa', QA);
    stub.requests.length = 0;

    for (let i = 0; i < 4; i += 1) {
      expect(await settledCode(oldQa.execute({ question: 'yours?' }))).toBe('session_expired');
      expect(await settledCode(oldQa.describe())).toBe('session_expired');
    }
    expect(stub.chatRequests).toEqual([]);
  });

  it('ends a remote module handle with its own stop: no request, no event, even once the id is created again', async () => {
    stub.fallback = () => text('Answer: new');
    await fx().runtime(fx().buckets(), { llm: llm() });
    const session = await (await fx().client()).session('stopped');
    await session.defineVariable('t', 'float', 0.1);
    const stopped = await session.module('qa', QA);
    const heard: ModuleEvent[] = [];
    stopped.on('module.result', (event) => heard.push(event));
    const states: string[] = [];
    stopped.onState((state) => states.push(state));
    await waitFor(() => states.length === 1, { message: "the stopped handle's first state" });
    await stopped.stop();

    const again = await session.module('qa', QA);
    const later = stopped.on('module.synced', (event) => heard.push(event));
    expect((await again.execute({ question: 'whose?' })).output).toEqual({ answer: 'new' });
    // The old handle reaches nothing of the new module: its calls are refused without a request (the stub had one
    // call, the new handle's), and none of its listeners hears the new module's events.
    expect(await settledCode(stopped.execute({ question: 'mine?' }))).toBe('module_not_found');
    expect(await settledCode(stopped.describe())).toBe('module_not_found');
    await stopped.stop();
    later();
    const events = await moduleEvents('stopped');
    await again.execute({ question: 'and now?' });
    await waitFor(() => events.some((event) => event.type === 'module.result'), { message: 'the new result' });
    expect(stub.chatRequests).toHaveLength(2);
    expect(heard).toEqual([]);
    expect(states).toEqual(['idle']);
  });
});
