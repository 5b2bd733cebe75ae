import { describe, expect, it } from 'vitest';
import type { ModuleEvent } from '../../src/index.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { text, useOpenAIStub } from '../support/openai-stub.js';
import { waitFor } from '../support/wait-for.js';

const MAX_PAYLOAD = 64 * 1024;
const fx = useNatsFixture({ maxPayload: MAX_PAYLOAD });
const nc = usePlainConnection(fx);
const stubbed = useOpenAIStub();

/** Every module event of `sessionId` a plain subscriber receives, with each message's size. */
function subscribeModuleEvents(sessionId: string): { event: ModuleEvent; bytes: number }[] {
  const received: { event: ModuleEvent; bytes: number }[] = [];
  nc().subscribe(`tether.v1.events.${sessionId}.module.*`, {
    callback: (_e, msg) => received.push({ event: msg.json<ModuleEvent>(), bytes: msg.data.length }),
  });
  return received;
}

describe('module events too large for one message', () => {
  it('publish a sync whose changes do not fit without the largest ones, naming them', async () => {
    await fx().node(fx().buckets(), { llm: stubbed.llm() });
    const client = await fx().client();
    const session = await client.session('big-sync');
    // Each variable's change fits in one message; the sync's [old, new] of both together does not.
    await session.defineVariable('ins', 'string', 'a'.repeat(20_000));
    await session.defineVariable('mdl', 'string', 'm'.repeat(18_000));
    await session.defineVariable('t', 'float', 0.1);
    const qa = await session.module('qa', {
      type: 'Predict',
      signature: 'question:string -> answer:string',
      bindings: { instructions: 'ins', model: 'mdl', temperature: 't' },
    });
    const synced: ModuleEvent[] = [];
    qa.on('module.synced', (event) => synced.push(event));
    const wire = subscribeModuleEvents('big-sync');
    await nc().flush();
    await qa.execute({ question: 'q' });

    await session.setVariables({ ins: 'b'.repeat(20_000), mdl: 'n'.repeat(18_000), t: 0.2 });
    const { executionId } = await qa.execute({ question: 'q' });
    const isSync = (event: ModuleEvent) => event.type === 'module.synced' && event.executionId === executionId;
    await waitFor(() => synced.some(isSync) && wire.some(({ event }) => isSync(event)), {
      message: 'the sync heard by the handle and on the wire',
    });
    const onWire = wire.find(({ event }) => isSync(event))!;
    expect(onWire.bytes).toBeLessThanOrEqual(MAX_PAYLOAD);
    expect(onWire.event).toMatchObject({
      // Cut, it still names its session's life, as every module event does.
      sessionId: 'big-sync',
      incarnation: session.incarnation,
      outcome: {
        moduleType: 'Predict',
        changes: { model: ['m'.repeat(18_000), 'n'.repeat(18_000)], temperature: [0.1, 0.2] },
        changesOmitted: ['instructions'],
      },
    });
    expect(Object.keys((onWire.event as { outcome: { changes: object } }).outcome.changes)).not.toContain(
      'instructions',
    );
    expect(synced.find(isSync)).toEqual(onWire.event);
  });

  it('cut a streamed delta into pieces that add up to it', async () => {
    const answer = `${'x'.repeat(100_000)}😀${'y'.repeat(100_000)}`;
    stubbed.stub().fallback = () => text(`Answer: ${answer}`);
    await fx().node(fx().buckets(), { llm: stubbed.llm() });
    const client = await fx().client();
    const session = await client.session('big-delta');
    const qa = await session.module('qa', { type: 'Predict', signature: 'question:string -> answer:string' });
    const wire = subscribeModuleEvents('big-delta');
    await nc().flush();
    // The result is too large for a reply too: the execution's failure says so, after its deltas.
    await expect(qa.execute({ question: 'q' })).rejects.toMatchObject({ code: 'payload_too_large' });
    await waitFor(() => wire.some(({ event }) => event.type === 'module.failed'), { message: 'the failure' });

    const deltas = wire.filter(({ event }) => event.type === 'module.delta');
    expect(deltas.length).toBeGreaterThan(2);
    expect(deltas.every(({ bytes }) => bytes <= MAX_PAYLOAD)).toBe(true);
    const streamed = deltas.map(({ event }) => (event as { delta: string }).delta).join('');
    expect(streamed).toBe(answer);
  });
});
