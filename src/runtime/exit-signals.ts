/**
 * Exit signals (Erlang's): what an exit sends along its links, queued while the exit is handled and delivered after,
 * one after another, and the `EXIT` notices that reach the processes trapping exits instead.
 * @module
 */
import { isAbnormal, linkedExit, type ExitReason } from './exit-reason.js';
import type { ExitNotice } from './links.js';
import type { Process } from './process.js';

/**
 * An exit signal on its way to a linked process: a `reason` stops the peer, a `notice` is the event a peer that traps
 * exits gets instead.
 */
export type ExitSignal = { readonly peer: Process } & (
  { readonly reason: ExitReason } | { readonly notice: ExitNotice }
);

/** The exit signals of one runtime's processes, and which of those processes trap exits. */
export class ExitSignals {
  /** Exit signals on their way to linked processes (see {@link ExitSignals.deliver}). */
  readonly #queue: ExitSignal[] = [];
  /** The processes spawned with `trapExit: true`. */
  readonly #trapping = new WeakSet<Process>();
  /** Each EXIT notice made here, and the process it was made for (see {@link ExitSignals.isNotice}). */
  readonly #notices = new WeakMap<object, Process>();
  #delivering = false;

  /** `process` traps exits: it gets an EXIT notice for every exit of a process linked to it, and lives on. */
  trap(process: Process): void {
    this.#trapping.add(process);
  }

  /**
   * Whether `event` is an EXIT notice made for `process`. Known by the object itself, which the runtime hands to the
   * process as it made it: a copy, or the same notice passed on to another process, is not one.
   */
  isNotice(event: unknown, process: Process | undefined): boolean {
    return process !== undefined && typeof event === 'object' && event !== null && this.#notices.get(event) === process;
  }

  /**
   * Queues the signals of `process`'s exit with `reason` to `peers`, the processes that were linked to it: a notice to
   * each that traps exits, and the reason it passed on to each other one, unless the exit is normal or the peer is
   * `spared`.
   */
  queue(
    process: Process,
    reason: ExitReason,
    peers: Process[],
    spared: ((peer: Process) => boolean) | undefined,
  ): void {
    const passed = linkedExit(process.id, reason);
    for (const peer of peers) {
      if (this.#trapping.has(peer)) {
        const notice: ExitNotice = { type: 'EXIT', id: process.id, name: process.name, reason };
        this.#notices.set(notice, peer);
        this.#queue.push({ peer, notice });
      } else if (isAbnormal(reason) && !spared?.(peer)) this.#queue.push({ peer, reason: passed });
    }
  }

  /**
   * Hands the signals queued to `send`, one after another rather than one inside the other's exit: a chain of links as
   * long as it may be is no deeper a stack than one link (a recursion per link overflowed past a few hundred, leaving
   * the rest half stopped), and the process that exited is told to its monitors before those its exit takes down, as
   * its signal reaches them after it is gone in Erlang. A call made while signals are being handed out returns at
   * once: the signals it queued are handed out by the call under way.
   */
  deliver(send: (signal: ExitSignal) => void): void {
    if (this.#delivering) return;
    this.#delivering = true;
    let next = 0;
    try {
      // By index: a process linked to thousands queues thousands, and a shift each would be quadratic.
      for (; next < this.#queue.length; next++) send(this.#queue[next]!);
    } finally {
      this.#queue.splice(0, next);
      this.#delivering = false;
    }
  }
}
