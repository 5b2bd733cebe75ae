/**
 * The floor of propagation (a) as the design lays it out: an XState actor on each end of a raw KV put → watch,
 * and nothing else. The writer actor takes a `write` event and puts the record conditioned on the revision it
 * last saw (as a session's write does); the reader actor takes each watched entry as an event, keeps it in its
 * context and tells its subscriber. No validation, no encoding, no routing, no events: what an actor on each node
 * costs at the least on this machine, before any of the work a session's write needs besides.
 * @module
 */
import type { KV } from 'nats';
import { assign, createActor, setup } from 'xstate';

/** A write the writer actor is asked for; `done` hears the put's revision or its failure. */
interface WriteEvent {
  readonly type: 'write';
  readonly done: (revision: number | Error) => void;
}

const writerMachine = setup({
  types: {} as {
    context: { readonly kv: KV; readonly key: string; readonly bytes: Uint8Array; revision: number };
    input: { readonly kv: KV; readonly key: string; readonly bytes: Uint8Array };
    events: WriteEvent | { type: 'written'; revision: number };
  },
}).createMachine({
  context: ({ input }) => ({ ...input, revision: 0 }),
  on: {
    write: {
      actions: ({ context, event, self }) => {
        const options = context.revision > 0 ? { previousSeq: context.revision } : {};
        context.kv.put(context.key, context.bytes, options).then(
          (revision) => {
            self.send({ type: 'written', revision });
            event.done(revision);
          },
          (error: unknown) => event.done(error instanceof Error ? error : new Error(String(error))),
        );
      },
    },
    written: { actions: assign({ revision: ({ event }) => event.revision }) },
  },
});

/** The writer end: `write()` resolves with the revision of its put, once acknowledged. */
export function startFloorWriter(kv: KV, key: string, bytes: Uint8Array): { write(): Promise<number>; stop(): void } {
  const actor = createActor(writerMachine, { input: { kv, key, bytes } }).start();
  return {
    write: () =>
      new Promise((resolve, reject) =>
        actor.send({ type: 'write', done: (r) => (r instanceof Error ? reject(r) : resolve(r)) }),
      ),
    stop: () => actor.stop(),
  };
}

const readerMachine = setup({
  types: {} as {
    context: { revision: number; value: Uint8Array | undefined };
    events: { type: 'changed'; revision: number; value: Uint8Array };
  },
}).createMachine({
  context: { revision: 0, value: undefined },
  on: { changed: { actions: assign(({ event }) => ({ revision: event.revision, value: event.value })) } },
});

/** The reader end: `apply` gives the actor a watched entry; `onApplied` hears each new revision it took. */
export function startFloorReader(onApplied: (revision: number) => void): {
  apply(revision: number, value: Uint8Array): void;
  stop(): void;
} {
  const actor = createActor(readerMachine).start();
  let told = 0;
  actor.subscribe((snapshot) => {
    if (snapshot.context.revision === told) return;
    told = snapshot.context.revision;
    onApplied(told);
  });
  return { apply: (revision, value) => actor.send({ type: 'changed', revision, value }), stop: () => actor.stop() };
}
