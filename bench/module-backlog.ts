/**
 * Backlogs: executions queued at one module whose provider holds every request (a local OpenAI-protocol server
 * that never answers), timed from the first `execute` until the module's mailbox holds them all, and concurrent
 * `setVariable` calls on one embedded session, timed until every one is answered; each at two sizes, against as
 * many events queued in a bare XState actor that keeps each in its context (the raw baseline: XState's own mailbox
 * and a push). Per item each side should cost the same at either size: a cost that grows with the backlog is one
 * that holds up the whole process under overload (both queues were copied whole on every change once: 20,000
 * executions took 18 s to queue, 20,000 writes 17 s).
 * @module
 */
import { assign, createActor, setup } from 'xstate';
import { Runtime, createLanguageModel } from '../src/index.js';
import { OpenAIStub } from '../test/support/openai-stub.js';
import { fmt } from './stats.js';

const SIZES = [2_000, 20_000] as const;

/** µs to queue `count` executions at a module whose provider holds them all. */
async function ourBacklog(count: number): Promise<number> {
  const stub = await OpenAIStub.start();
  stub.hold();
  const llm = createLanguageModel({ provider: 'openai', url: stub.url, key: 'bench', model: 'gpt-4o-mini' });
  const runtime = await Runtime.start({ llm, onError: () => {} });
  try {
    const session = await runtime.session('backlog');
    const module = await session.module('qa', { type: 'Predict', signature: 'question:string -> answer:string' });
    const t0 = process.hrtime.bigint();
    // Each settles when the runtime stops: what is timed is their queueing.
    for (let i = 0; i < count; i++) void module.execute({ question: `q${i}` }, { timeoutMs: 600_000 }).catch(() => {});
    for (;;) {
      const { queued, executionId } = await module.describe();
      if (queued + (executionId === undefined ? 0 : 1) >= count) break;
    }
    return Number(process.hrtime.bigint() - t0) / 1000;
  } finally {
    await runtime.stop();
    stub.release();
    await stub.close();
  }
}

/** µs until `count` concurrent `setVariable` calls on one session are answered. */
async function ourWrites(count: number): Promise<number> {
  const runtime = await Runtime.start();
  try {
    const session = await runtime.session('backlog');
    await session.defineVariable('x', 'integer', 0);
    const t0 = process.hrtime.bigint();
    await Promise.all(Array.from({ length: count }, (_, i) => session.setVariable('x', i)));
    return Number(process.hrtime.bigint() - t0) / 1000;
  } finally {
    await runtime.stop();
  }
}

/** µs to queue `count` events in a bare XState actor that keeps each one in its context. */
function rawBacklog(count: number): number {
  const machine = setup({
    types: {} as { context: { queue: { question: string }[] }; events: { type: 'execute'; question: string } },
  }).createMachine({
    context: { queue: [] },
    on: { execute: { actions: assign({ queue: ({ context, event }) => (context.queue.push(event), context.queue) }) } },
  });
  const actor = createActor(machine).start();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < count; i++) actor.send({ type: 'execute', question: `q${i}` });
  const took = Number(process.hrtime.bigint() - t0) / 1000;
  if (actor.getSnapshot().context.queue.length !== count) throw new Error('the bare actor lost events');
  actor.stop();
  return took;
}

/** One backlog at each size beside the bare actor, as report lines. */
async function backlogLines(what: string, ours: (count: number) => Promise<number>): Promise<string[]> {
  const lines = [what];
  const each: { ours: number; raw: number }[] = [];
  // Warmed first, so the smaller size is not timed as the first run of cold code.
  await ours(SIZES[0]);
  rawBacklog(SIZES[0]);
  for (const count of SIZES) {
    const perOurs = (await ours(count)) / count;
    const perRaw = rawBacklog(count) / count;
    each.push({ ours: perOurs, raw: perRaw });
    lines.push(
      `  ${count.toLocaleString('en-US').padStart(6)}: ${fmt(perOurs)} µs each (${fmt((perOurs * count) / 1000, 0)} ms in all)` +
        `  | bare XState actor keeping the events ${fmt(perRaw)} µs each  | ratio ${fmt(perOurs / perRaw, 1)}x`,
    );
  }
  const [small, large] = each as [{ ours: number; raw: number }, { ours: number; raw: number }];
  lines.push(
    `  cost per item at ${SIZES[1].toLocaleString('en-US')} over at ${SIZES[0].toLocaleString('en-US')}:` +
      ` ours ${fmt(large.ours / small.ours)}x, bare actor ${fmt(large.raw / small.raw)}x (1x: no cost grows with the backlog)`,
  );
  return lines;
}

/** Runs both backlogs and returns printable lines. */
export async function benchModuleBacklog(): Promise<string[]> {
  return [
    ...(await backlogLines('Module backlog: executions queued at one module whose provider never answers', ourBacklog)),
    ...(await backlogLines('Session write backlog: concurrent setVariable calls on one embedded session', ourWrites)),
  ];
}
