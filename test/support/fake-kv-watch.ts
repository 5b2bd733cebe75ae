/**
 * A fake of what nats.js gives `watchKv` (src/nats/kv-watch.ts), so that a unit test decides what a watch's consumer
 * sends and when: a bucket whose `watch` records its options and resolves to a consumer the test feeds. It models
 * only what `watchKv` relies on, as nats.js 2.29 does it (jetstream/kv.js `watch`, QueuedIteratorImpl).
 * @module
 */
import type { KV, KvEntry, KvWatchOptions, QueuedIterator } from 'nats';

/** A put of revision `revision`; `watchKv` reads nothing else of an entry. */
export function kvEntry(revision: number): KvEntry {
  return {
    bucket: 'fake',
    key: `p.k${revision}`,
    value: new Uint8Array(),
    created: new Date(0),
    revision,
    operation: 'PUT',
    length: 0,
    json: <T>() => null as T,
    string: () => '',
  };
}

type Queued = KvEntry | (() => void);

/**
 * A watch's consumer, as nats.js's QueuedIteratorImpl behaves: what is pushed comes out in order, a function runs
 * when it is reached (that is how nats.js, and `watchKv`, place the initial-values signal behind the entries before
 * it); `getPending` counts what is queued and the entry being handled; `stop` ends the iteration; `_data.info.last`
 * is the consumer info as it was at creation.
 */
export class FakeWatchConsumer implements QueuedIterator<KvEntry> {
  readonly _data: { info: { last: { delivered: { stream_seq: number }; num_pending: number } } };
  stopped = false;
  readonly #queue: Queued[] = [];
  #handling = 0;
  #processed = 0;
  #wake: (() => void) | undefined;

  constructor(startsAfter: number, pendingAtOpen: number) {
    this._data = { info: { last: { delivered: { stream_seq: startsAfter }, num_pending: pendingAtOpen } } };
  }

  /** Sends the entries of these revisions, as one socket read: all queued before the watch's loop resumes. */
  send(...revisions: number[]): void {
    for (const revision of revisions) this.push(kvEntry(revision));
  }

  push(item: Queued): void {
    if (this.stopped) return;
    this.#queue.push(item);
    this.#wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<KvEntry> {
    try {
      for (;;) {
        while (this.#queue.length === 0 && !this.stopped) await new Promise<void>((wake) => (this.#wake = wake));
        if (this.stopped) return;
        const item = this.#queue.shift()!;
        if (typeof item === 'function') {
          item();
          continue;
        }
        this.#handling = 1;
        this.#processed += 1;
        yield item;
        this.#handling = 0;
      }
    } finally {
      // As nats.js: a loop that breaks stops its iterator.
      this.stop();
    }
  }

  stop(): void {
    this.stopped = true;
    this.#wake?.();
  }

  getPending(): number {
    return this.#queue.length + this.#handling;
  }

  getProcessed(): number {
    return this.#processed;
  }

  getReceived(): number {
    return this.#processed + this.#queue.length;
  }
}

/** A bucket whose `watch` opens a {@link FakeWatchConsumer}; every call's options are kept in {@link watches}. */
export class FakeKv {
  /** The options of every `watch` call, in order. */
  readonly watches: KvWatchOptions[] = [];
  /** Every consumer opened, in order. */
  readonly consumers: FakeWatchConsumer[] = [];
  /** The stream's last sequence: where a consumer not given a revision starts after ("updates only"). */
  streamLast = 0;
  /** The revisions the next consumer has to send at creation (its initial entries, its `num_pending`). */
  pending: number[] = [];
  /** What the next `watch` calls reject with, one each, before one opens (JetStream unavailable, say). */
  failing: unknown[] = [];

  /** The consumer opened last. */
  get consumer(): FakeWatchConsumer {
    const last = this.consumers.at(-1);
    if (last === undefined) throw new Error('no consumer opened yet');
    return last;
  }

  /** This fake where `watchKv` wants a `KV`: it calls `watch` only. */
  asKv(): KV {
    return this as unknown as KV;
  }

  async watch(opts: KvWatchOptions = {}): Promise<QueuedIterator<KvEntry>> {
    this.watches.push(opts);
    if (this.failing.length > 0) throw this.failing.shift();
    const { resumeFromRevision } = opts;
    const startsAfter = resumeFromRevision === undefined ? this.streamLast : resumeFromRevision - 1;
    const consumer = new FakeWatchConsumer(startsAfter, this.pending.length);
    this.consumers.push(consumer);
    consumer.send(...this.pending);
    // As nats.js: with nothing pending at creation the signal is called before `watch` resolves, else it is queued
    // behind the initial entries.
    if (opts.initializedFn !== undefined) {
      if (this.pending.length === 0) opts.initializedFn();
      else consumer.push(opts.initializedFn);
    }
    this.pending = [];
    return consumer;
  }
}
