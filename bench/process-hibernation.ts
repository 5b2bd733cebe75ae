/**
 * Idle hibernation of generic processes: heap per process while awake and while hibernating, against plain
 * XState actors of the same machine, and what a message to a hibernating process costs (the wake) against one
 * to a plain actor. Run in its own process (with --expose-gc), so the heap figures are this benchmark's alone:
 * `node --expose-gc --import tsx bench/process-hibernation.ts`.
 * @module
 */
import { assign, createActor, setup, type AnyActor } from 'xstate';
import { ProcessRuntime, type ProcessRef } from '../src/runtime/index.js';
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

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const line of await benchProcessHibernation(Number(process.env.PROCESSES ?? 20_000))) console.log(line);
}
