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
 * @module
 */
import { ErrorCode, KvWatchInclude, type KV, type KvEntry, type QueuedIterator } from 'nats';
import type { WatchStart } from '../store/watch-start.js';

/** A running bucket watch. */
export interface KvWatchHandle {
  /** Resolves once the initial entries went through `onEntry`. */
  readonly initialized: Promise<void>;
  /**
   * Replaces the consumer with a new one that starts right after the last entry delivered (retrying while
   * JetStream is not back yet). For when the connection is back after an outage; a no-op once stopped.
   */
  resume(): void;
  /** Ends the watch; idempotent. */
  stop(): void;
}

/** The `kv.watch` key filter for a store prefix (`''` → every key). */
export function keyFilter(prefix: string): string {
  return prefix === '' ? '>' : `${prefix}>`;
}

/** Opening attempts of a resumed watch (backing off to 2 s): about a minute for JetStream to come back. */
const RESUME_ATTEMPTS = 30;

/**
 * The stream sequence a new consumer starts after, from the consumer info nats.js keeps (its own `watch` reads
 * the same to count the initial entries); 0 when it cannot be read. For "updates only" it is the stream's last
 * sequence at creation: a resume from there skips nothing the watch was meant to see.
 */
function startSequenceOf(iterator: QueuedIterator<KvEntry>): number {
  const sub = (iterator as { _data?: { info?: { last?: { delivered?: { stream_seq?: unknown } } } } })._data;
  const sequence = sub?.info?.last?.delivered?.stream_seq;
  return typeof sequence === 'number' ? sequence : 0;
}

const closedConnection = (error: unknown): boolean =>
  (error as { code?: unknown } | null)?.code === ErrorCode.ConnectionClosed;

/** The consumer options of a first open: where `start` says. */
function firstOpen(start: WatchStart): { include: KvWatchInclude; resumeFromRevision?: number } {
  switch (start.kind) {
    case 'current':
      return { include: KvWatchInclude.LastValue };
    case 'live':
      return { include: KvWatchInclude.UpdatesOnly };
    case 'from':
      // The server starts at the stream's first message when this one is gone; when it is ahead, at the next
      // message, which `run` skips up to this one.
      return { include: KvWatchInclude.AllHistory, resumeFromRevision: start.revision };
  }
}

/**
 * Watches keys under `prefix`. Starting at `current`, the last message of every key comes first (delete markers
 * too: the caller decides), in stream order, then live messages; at `from`, every kept message from that
 * revision on. `onEntry` returning `false` stops the watch. `onEnd` hears why a watch ended on its own
 * (connection closed, consumer deleted); not called after `stop()`.
 */
export function watchKv(
  kv: KV,
  prefix: string,
  start: WatchStart,
  onEntry: (entry: KvEntry, initialized: boolean) => boolean | void,
  onEnd: (error: unknown) => void,
): KvWatchHandle {
  let stopped = false;
  let initializedNow = false;
  /** Bumped by each (re)open: entries of a replaced consumer still queued in its iterator are dropped. */
  let generation = 0;
  /** Every entry up to this stream sequence is delivered or not this watch's to see; unknown until a consumer opened. */
  let position: number | undefined;
  let iterator: QueuedIterator<KvEntry> | undefined;
  let cancelDelay: (() => void) | undefined;
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

  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    cancelDelay?.();
    iterator?.stop();
    markInitialized();
  };

  const delay = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      cancelDelay = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  /** Opens a consumer (resuming after `position` once one was open) and delivers its entries while it is current. */
  async function run(gen: number): Promise<void> {
    const current = (): boolean => !stopped && gen === generation;
    const resumeAfter = position;
    let it: QueuedIterator<KvEntry> | undefined;
    let firedEarly = false;
    const signal = (): void => {
      if (current()) markInitialized();
    };
    for (let attempt = 1; ; attempt += 1) {
      try {
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
                  if (it === undefined) firedEarly = true;
                  else signal();
                },
              }),
        });
        break;
      } catch (error) {
        if (!current()) return;
        // The first open fails for its caller to see; a resume waits for JetStream to come back with the server.
        if (gen === 1 || attempt >= RESUME_ATTEMPTS || closedConnection(error)) {
          failInitialized(error);
          onEnd(error);
          return;
        }
        await delay(Math.min(100 * 2 ** attempt, 2000));
        if (!current()) return;
      }
    }
    if (!current()) {
      it.stop();
      return;
    }
    iterator = it;
    // A watch from a revision has seen nothing below it, even when the consumer info cannot be read.
    position = Math.max(position ?? (start.kind === 'from' ? start.revision - 1 : 0), startSequenceOf(it));
    // The iterator runs queued functions in order; nats.js queues its own signal the same way.
    if (firedEarly) (it as unknown as { push(item: () => void): void }).push(signal);
    try {
      for await (const entry of it) {
        if (!current()) break;
        // The server starts a consumer asked for a sequence past the stream's last at the next one instead.
        if (start.kind === 'from' && entry.revision < start.revision) continue;
        const more = onEntry(entry, initializedNow);
        position = Math.max(position, entry.revision);
        if (more === false) {
          stop();
          break;
        }
      }
    } catch (error) {
      if (current()) {
        failInitialized(error);
        onEnd(error);
      }
    }
  }

  const open = (): void => {
    generation += 1;
    cancelDelay?.();
    iterator?.stop();
    iterator = undefined;
    void run(generation);
  };

  open();
  return {
    initialized,
    stop,
    resume() {
      if (!stopped) open();
    },
  };
}
