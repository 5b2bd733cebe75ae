/**
 * Watching a KV bucket by key prefix, with a reliable "current values delivered" point, resumable after an outage.
 *
 * nats.js signals the end of the initial values through `initializedFn`, but calls it in one of two ways: queued
 * in order behind the initial entries, or synchronously inside `kv.watch()` when every initial entry arrived
 * before the consumer was confirmed (usual on loopback) — then the entries are still waiting in the iterator.
 * In that second case a function is pushed onto the iterator, which runs queued functions in order, so the
 * signal always lands right after the last initial entry.
 *
 * A watch is an ordered push consumer, kept in the server's memory: a restarted server has lost it, and nats.js
 * recreates it only after two missed 5 s heartbeats. {@link KvWatchHandle.resume} opens a new consumer at once,
 * starting right after the last entry delivered, so nothing is skipped and nothing delivered comes twice.
 *
 * Entries are handed over in batches: those that arrived together (one read from the socket, which nats.js queues
 * in the iterator before the loop resumes) go out in one call, so a router gives each session one event for all of
 * them instead of one each. A batch ends where the iterator has nothing more queued (or, with `deferBatches`, at the
 * end of the turn), before the initial-entries signal, and before a resume; a later turn (`setImmediate`) delivers
 * anything still held, so nothing waits for the next message; entries that waited for a gap check (below) go out a
 * turn after it is answered. A batch counts as delivered once `onEntries`
 * returned: when it throws (which ends the watch), a resume hands that whole batch over again rather than skip any
 * of it.
 *
 * The server can move a consumer past messages it never sent. On nats-server 2.9.10, a purge of a key (a KV purge,
 * which is a rollup) or of a subject filter (a stream purge, as a session's deletion removes its markers) moves every
 * consumer of the stream that had not sent all it had yet (a write stored a moment before, or its client slow to answer
 * flow control) to the first message left under the purged subject, or past the stream's end: the messages it skipped,
 * other keys' writes, are never delivered, and nothing tells (measured; test kv-watch-moved-consumer.nats.test.ts).
 * Given `nextStored`, a watch therefore checks, when an entry comes more than one revision after the one before,
 * whether the stream still holds messages of its keys in between: those the consumer skipped are read and handed over
 * ahead of it, or, past a few, a new consumer takes over after the last entry delivered (kv-watch-gaps.ts). A consumer
 * moved past the end delivers nothing more until the next write, which may never come (a client waiting for a
 * revision the node skipped writes nothing): the checks of a quiet watch find it (kv-watch-quiet.ts), each period it
 * delivered nothing, or at once when a reader waiting for a revision asks ({@link KvWatchHandle.checkNow}).
 *
 * The same checks find a consumer lost in a cluster: it lives on any one server, often not the one the connection is
 * on, and when that server dies the connection stays up (no reconnect to resume on) and the watch falls silent.
 * nats.js took 15 to over 30 seconds to notice (measured on 2.9.10).
 * @module
 */
import { KvWatchInclude, type KV, type KvEntry, type QueuedIterator } from 'nats';
import type { WatchStart } from '../store/watch-start.js';
import { unavailability } from './retry-unavailable.js';
import { GapCheckedArrivals } from './kv-watch-gaps.js';
import { QuietWatchCheck } from './kv-watch-quiet.js';
import {
  consumerInfoOf,
  firstOpen,
  firstToOpen,
  keyFilter,
  REOPEN_TIMEOUT_MS,
  reopenFailure,
  startSequenceOf,
  watchUnavailable,
} from './kv-watch-consumer.js';
import type { WatchKvOptions } from './kv-watch-options.js';

/** One attempt's consumer, and whether nats.js signalled its initial entries through before it was chosen. */
interface Opening {
  readonly it: QueuedIterator<KvEntry>;
  readonly early: () => boolean;
  readonly stop: () => void;
}

/** A running bucket watch. */
export interface KvWatchHandle {
  /** Resolves once the initial entries went through `onEntries`. */
  readonly initialized: Promise<void>;
  /**
   * Replaces the consumer with a new one that starts right after the last entry delivered (retrying while
   * JetStream is not back yet). For when the connection is back after an outage; a no-op once stopped. Resolves once
   * the new consumer is open, or once the watch no longer tries (stopped, or replaced by a later resume).
   */
  resume(): Promise<void>;
  /**
   * A reader waits for a revision the bucket holds and this watch has not delivered: checks at once for a consumer
   * the server moved past the end (see `QuietWatchCheck.checkNow`). A no-op without `nextStored`.
   */
  checkNow(): void;
  /** Ends the watch; idempotent. */
  stop(): void;
}

/**
 * Watches keys under `prefix`. Starting at `current`, the last message of every key comes first (delete markers
 * too: the caller decides), in stream order, then live messages; at `from`, every kept message from that
 * revision on; `onEntries` gets them in batches, in order (see the module comment), with whether the initial ones
 * are all through. `onEnd` hears why a watch ended on its own (connection closed, consumer deleted, `onEntries`
 * throwing); not called after `stop()`.
 */
export function watchKv(
  kv: KV,
  prefix: string,
  start: WatchStart,
  onEntries: (entries: readonly KvEntry[], initialized: boolean) => void,
  onEnd: (error: unknown) => void,
  options: WatchKvOptions = {},
): KvWatchHandle {
  let stopped = false;
  /** Whether the watch ended on its own (see `onEnd`): no consumer delivers, none is checked, until a resume. */
  let ended = false;
  /** The revision a reopen by the quiet checks is for, until its consumer is open. */
  let stalledAt: number | undefined;
  let initializedNow = false;
  /** Bumped by each (re)open: entries of a replaced consumer still queued in its iterator are dropped. */
  let generation = 0;
  /** Every entry up to this stream sequence is delivered or not this watch's to see; unknown until a consumer opened. */
  let position: number | undefined;
  let iterator: QueuedIterator<KvEntry> | undefined;
  let markInitialized!: () => void;
  let failInitialized!: (error: unknown) => void;
  const initialized = new Promise<void>((resolve, reject) => {
    markInitialized = () => {
      initializedNow = true;
      resolve();
    };
    failInitialized = reject;
  });
  // Nobody may be awaiting it; a rejection must not become an unhandled one.
  initialized.catch(() => {});

  /** Entries taken from the iterator and not handed over yet: the batch being gathered. */
  let held: KvEntry[] = [];
  let flushLater: ReturnType<typeof setImmediate> | undefined;
  /** Hands over the batch gathered so far. `onEntries` throwing ends the watch, as a failing consumer does. */
  const flush = (): void => {
    if (flushLater !== undefined) clearImmediate(flushLater);
    flushLater = undefined;
    if (held.length === 0 || stopped) return;
    const entries = held;
    held = [];
    try {
      onEntries(entries, initializedNow);
      // Delivered only now: a resume after a throwing `onEntries` hands the whole batch over again, none skipped.
      position = Math.max(position ?? 0, entries[entries.length - 1]!.revision);
    } catch (error) {
      // The current consumer is done for: nothing more is delivered, unless a resume opens another.
      iterator?.stop();
      end(error);
    }
  };

  /** The watch ended on its own: told once, and no check brings it back (a resume may). */
  const end = (error: unknown): void => {
    ended = true;
    // Nothing of this consumer is delivered after the end: not what waits for a gap check, nor a batch gathered
    // and not handed over yet (its entries are past the position, and a resume hands them over again).
    generation += 1;
    held = [];
    if (flushLater !== undefined) clearImmediate(flushLater);
    flushLater = undefined;
    quiet?.stop();
    failInitialized(error);
    onEnd(error);
  };

  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    held = [];
    if (flushLater !== undefined) clearImmediate(flushLater);
    quiet?.stop();
    iterator?.stop();
    markInitialized();
  };

  /**
   * Opens a consumer (resuming after `position` once one was open) and delivers its entries while it is current;
   * `opened` is called once the consumer is open.
   */
  async function run(gen: number, opened: () => void): Promise<void> {
    const current = (): boolean => !stopped && gen === generation;
    const resumeAfter = position;
    const signal = (): void => {
      if (!current()) return;
      // The entries before the signal are the initial ones: they go out first, as initial.
      flush();
      markInitialized();
    };
    /** The consumer chosen among the attempts: only its signal counts. */
    let chosen: QueuedIterator<KvEntry> | undefined;
    const attempt = async (): Promise<Opening> => {
      let early = false;
      // Assigned once open: nats.js may signal from inside `kv.watch()`, before.
      let it: QueuedIterator<KvEntry> | undefined;
      it = await kv.watch({
        key: keyFilter(prefix),
        // A start sequence replaces the deliver policy: every message from there on, whatever `include` says.
        ...(resumeAfter === undefined
          ? firstOpen(start)
          : { include: KvWatchInclude.AllHistory, resumeFromRevision: resumeAfter + 1 }),
        // Still owed after a resume that came before the initial entries were all through.
        ...(initializedNow
          ? {}
          : {
              initializedFn: () => {
                if (it !== undefined && chosen === it) signal();
                else early = true;
              },
            }),
      });
      const opened = it;
      return { it: opened, early: () => early, stop: () => opened.stop() };
    };
    let opening: Opening | undefined;
    const { bucket, firstOpenRetry: firstRetry, reopenSlow: toldSlow } = options;
    const startedAt = performance.now();
    const reopenSlow =
      toldSlow && bucket
        ? (error: unknown) => toldSlow(reopenFailure(bucket, prefix, performance.now() - startedAt, error))
        : toldSlow;
    try {
      // The first open fails for its caller to see, after waiting for the cluster up to the store's bound when it
      // has one; a reopen waits for JetStream to come back, however long it takes.
      opening = await firstToOpen(
        attempt,
        gen === 1
          ? firstRetry === undefined
            ? { attempts: 1, wanted: current }
            : {
                attempts: Infinity,
                hedgeMs: REOPEN_TIMEOUT_MS,
                wanted: current,
                until: startedAt + firstRetry.retryMs,
                retries: (error) => unavailability(error) !== undefined,
              }
          : {
              attempts: Infinity,
              hedgeMs: REOPEN_TIMEOUT_MS,
              wanted: current,
              ...(reopenSlow ? { slow: reopenSlow } : {}),
            },
      );
    } catch (error) {
      if (!current()) return;
      const failure =
        firstRetry !== undefined && bucket !== undefined && unavailability(error) !== undefined
          ? watchUnavailable(bucket, prefix, performance.now() - startedAt, error, false)
          : error;
      // Ended as a consumer's failure ends it: its quiet checks stop too, or they would fire for ever (the store
      // forgets a watch that ended, so nothing would stop it).
      end(failure);
      return;
    }
    if (opening === undefined) return;
    const it = opening.it;
    if (!current()) {
      it.stop();
      return;
    }
    chosen = it;
    const firedEarly = opening.early();
    iterator = it;
    opened();
    // A watch from a revision has seen nothing below it, even when the consumer info cannot be read.
    position = Math.max(position ?? (start.kind === 'from' ? start.revision - 1 : 0), startSequenceOf(it));
    // Reopened for a revision the quiet checks saw, the new consumer has nothing to deliver: that revision is a
    // message gone from the stream, and waiting for it would reopen the watch again and again.
    if (stalledAt !== undefined && consumerInfoOf(it)?.num_pending === 0) position = Math.max(position, stalledAt);
    stalledAt = undefined;
    // The iterator runs queued functions in order; nats.js queues its own signal the same way.
    if (firedEarly) (it as unknown as { push(item: () => void): void }).push(signal);
    const nextStored = options.nextStored;
    const arrivals = new GapCheckedArrivals(
      {
        next: (after) => nextStored!(after, prefix),
        wanted: current,
        take(entry) {
          // The server starts a consumer asked for a sequence past the stream's last at the next one instead.
          if (start.kind !== 'from' || entry.revision >= start.revision) {
            held.push(entry);
            quiet?.delivered();
          }
        },
        tookLater: () => void (flushLater ??= setImmediate(flush)),
        tooWide: () => void open(false),
      },
      position,
    );
    try {
      for await (const entry of it) {
        if (!current()) break;
        // Past the initial entries (the last value of each key, with gaps), a gap may be messages the server moved
        // this consumer past: they go first, and the entries after it wait their turn (see the module comment).
        if (!arrivals.arrive(entry, nextStored !== undefined && initializedNow)) {
          await arrivals.room();
          continue;
        }
        // More queued behind this one (the rest of what arrived with it) join the batch, and so does all this socket
        // read brings while the store awaits a write's acknowledgement (see `deferBatches`); the next turn delivers.
        if (it.getPending() > 1 || options.deferBatches?.()) flushLater ??= setImmediate(flush);
        else flush();
      }
    } catch (error) {
      if (current()) end(error);
    }
  }

  /**
   * Resolves once the new consumer is open, or once its run is over without one. A new consumer the checks ask for
   * (`revive` false) is not opened for a watch stopped or ended on its own; a resume's is, for one that ended.
   */
  const open = (revive = true): Promise<void> => {
    // What the replaced consumer delivered is this watch's: it goes out before anything of the new one.
    flush();
    if (stopped || (ended && !revive)) return Promise.resolve();
    generation += 1;
    iterator?.stop();
    iterator = undefined;
    ended = false;
    quiet?.start();
    return new Promise<void>((resolve) => void run(generation, resolve).finally(resolve));
  };

  const quiet =
    options.nextStored &&
    new QuietWatchCheck(
      {
        nextStored: async (after) => (await options.nextStored!(after, prefix))?.revision,
        // No consumer open (one opening, or the watch ended on its own): nothing to check.
        position: () => (stopped || ended || iterator === undefined ? undefined : position),
        reopen(revision) {
          stalledAt = revision;
          void open(false);
        },
      },
      options.idleCheck,
    );

  void open();
  return {
    initialized,
    checkNow: () => void quiet?.checkNow(),
    stop,
    resume() {
      return stopped ? Promise.resolve() : open();
    },
  };
}
