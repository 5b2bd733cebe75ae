/**
 * Idle hibernation of generic processes: heap per process while awake and while hibernating, against plain
 * XState actors of the same machine, and what a message to a hibernating process costs (the wake) against one
 * to a plain actor. Then the same for module processes, which a runtime hibernates after its idle time: heap per
 * module awake and hibernating, and an execution that wakes one against one on an awake module. Run in its own
 * process (with --expose-gc), so the heap figures are this benchmark's alone:
 * `node --expose-gc --import tsx bench/process-hibernation.ts`.
 * @module
 */
import { assign, createActor, setup, type AnyActor } from 'xstate';
import { Runtime, createEchoModel, type ModuleHandle } from '../src/index.js';
import { moduleProcessName } from '../src/node/module-directory.js';
import { ProcessRuntime, type ProcessRef } from '../src/runtime/index.js';
import { isMainScript } from './own-build.js';
import { fmt, heapUsed } from './stats.js';

const counter = setup({
  types: { context: {} as { count: number }, events: {} as { type: 'increment' } },
}).createMachine({
  context: { count: 0 },
  on: { increment: { actions: assign({ count: ({ context }) => context.count + 1 }) } },
});

const HIBERNATE_AFTER_MS = 50;

/** Bytes per item that `create` keeps, after collection. */
function heapPer<T>(count: number, create: () => T): { bytes: number; items: T[] } {
  const before = heapUsed();
  const items = Array.from({ length: count }, create);
  return { bytes: (heapUsed() - before) / count, items };
}

/** µs per `send` over every item. */
function microsEach<T>(items: readonly T[], send: (item: T) => void): number {
  const started = process.hrtime.bigint();
  for (const item of items) send(item);
  return Number(process.hrtime.bigint() - started) / 1000 / items.length;
}

/** Returns the report lines. */
export async function benchProcessHibernation(count = 20_000): Promise<string[]> {
  const raw = heapPer(count, (): AnyActor => createActor(counter).start());
  const rawSend = microsEach(raw.items, (actor) => actor.send({ type: 'increment' }));
  for (const actor of raw.items) actor.stop();
  raw.items.length = 0;

  const runtime = new ProcessRuntime({ onError: () => {} });
  const base = heapUsed();
  const processes: ProcessRef[] = Array.from({ length: count }, () =>
    runtime.spawn(counter, { hibernateAfter: HIBERNATE_AFTER_MS }),
  );
  const awake = (heapUsed() - base) / count;
  // The sweep runs every quarter of hibernateAfter: four periods past it, every process has gone to sleep.
  await new Promise((resolve) => setTimeout(resolve, HIBERNATE_AFTER_MS * 4));
  const sleeping = processes.filter((ref) => ref.hibernating).length;
  const asleep = (heapUsed() - base) / count;
  const wake = microsEach(processes, (ref) => runtime.cast(ref, { type: 'increment' }));
  const counted = processes.every((ref) => (ref.getSnapshot().context as { count: number }).count === 1);
  await runtime.stopAll();

  const kb = (bytes: number) => `${fmt(bytes / 1024, 2)} KB`;
  return [
    `Process hibernation: ${count.toLocaleString('en-US')} counter processes, hibernateAfter ${HIBERNATE_AFTER_MS} ms (${sleeping.toLocaleString('en-US')} hibernated)`,
    `  heap per process: awake ${kb(awake)}, hibernating ${kb(asleep)}  | plain XState actor ${kb(raw.bytes)}` +
      `  | ratio ${fmt(asleep / raw.bytes, 2)}x hibernating, ${fmt(awake / raw.bytes, 2)}x awake`,
    `  a cast that wakes a hibernating process ${fmt(wake, 1)} µs  | actor.send to a plain actor ${fmt(rawSend, 2)} µs` +
      `  | ratio ${fmt(wake / rawSend, 1)}x${counted ? '' : '  (SOME EVENTS LOST)'}`,
  ];
}

/** µs per `run` over every item, one at a time. */
async function microsEachAsync<T>(items: readonly T[], run: (item: T) => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  for (const item of items) await run(item);
  return Number(process.hrtime.bigint() - started) / 1000 / items.length;
}

const MODULE_IDLE_MS = 200;

/**
 * `count` modules (Predict, one bound variable, on the offline model) of one embedded session, each executed
 * once: heap per module awake, then hibernating; an execution that wakes each, against one more on each, awake.
 * Modules hibernate after {@link MODULE_IDLE_MS}; the session lives a minute (an embedded session expires after
 * its TTL, its modules with it: kept busy instead, it expired when a pause of the machine outlasted the idle time).
 */
export async function benchModuleHibernation(count = 2000): Promise<string[]> {
  const runtime = await Runtime.start({
    llm: createEchoModel(),
    sessionTtlMs: 60_000,
    hibernateAfterMs: MODULE_IDLE_MS,
  });
  const session = await runtime.session('bench');
  await session.defineVariable('t', 'float', 0.5);
  const spec = { type: 'Predict', signature: 'question:string -> answer:string', bindings: { temperature: 't' } };
  const question = { question: 'why?' };
  try {
    // Once first: Ax's code and caches are not the modules' own.
    await (await session.module('warm', spec)).execute(question);
    const base = heapUsed();
    const modules: ModuleHandle[] = [];
    for (let i = 0; i < count; i++) {
      const module = await session.module(`m${i}`, spec);
      await module.execute(question);
      modules.push(module);
    }
    const awake = (heapUsed() - base) / count;
    const asleep = (module: ModuleHandle) => runtime.whereis(moduleProcessName('bench', module.moduleId)) === undefined;
    while (!modules.every(asleep)) await new Promise((resolve) => setTimeout(resolve, MODULE_IDLE_MS / 4));
    const hibernating = (heapUsed() - base) / count;
    const wake = await microsEachAsync(modules, (module) => module.execute(question));
    const executeAwake = await microsEachAsync(modules, (module) => module.execute(question));
    const kb = (bytes: number) => `${fmt(bytes / 1024, 2)} KB`;
    return [
      `Module hibernation: ${count.toLocaleString('en-US')} modules of one session, idle time ${MODULE_IDLE_MS} ms`,
      `  heap per module: awake ${kb(awake)}, hibernating ${kb(hibernating)}  | ratio ${fmt(hibernating / awake, 2)}x`,
      `  an execute that wakes a hibernating module ${fmt(wake, 0)} µs  | on an awake module ${fmt(executeAwake, 0)} µs` +
        `  | ratio ${fmt(wake / executeAwake, 1)}x`,
    ];
  } finally {
    await runtime.stop();
  }
}

if (isMainScript(import.meta.url)) {
  for (const line of await benchProcessHibernation(Number(process.env.PROCESSES ?? 20_000))) console.log(line);
  for (const line of await benchModuleHibernation(Number(process.env.MODULES ?? 2000))) console.log(line);
}
