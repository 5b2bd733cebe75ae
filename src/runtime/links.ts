/**
 * Links (Elixir's `Process.link`): a bidirectional bond through which abnormal exits travel, and every exit reaches a
 * process that traps exits as an event.
 * @module
 */
import type { ExitReason } from './exit-reason.js';
import type { Process } from './process.js';

/**
 * What a process spawned with `trapExit: true` gets, as an event, when a process linked to it exits (Elixir's
 * `{:EXIT, pid, reason}` message): for every exit, a normal one too, and the process lives on. During `stopAll` it
 * hears of the processes stopped before it: a process that starts a replacement on an EXIT checks `stopping` first.
 * As in Elixir, it comes as any event does: one of this shape cast to the process looks the same. A supervisor tells
 * them apart (`ProcessHost.isExitNotice`), and heeds only the notices the runtime delivered to it.
 */
export interface ExitNotice {
  readonly type: 'EXIT';
  /** The id of the linked process that exited. */
  readonly id: string;
  /** Its registered name, if it had one. */
  readonly name: string | undefined;
  /**
   * Why it exited, as its own `exitReason` (and a DOWN notice) says: for one a link took down, `{ linked, reason }`
   * naming the process that did (`isFailure` and `crashErrorOf` read through it).
   */
  readonly reason: ExitReason;
}

/**
 * The link table. Links are symmetric and idempotent, like Erlang's: linking twice is one link, and an exit
 * removes every link of the exiting process before its signal travels, so signals cannot bounce back.
 * @internal
 */
export class Links {
  readonly #peers = new Map<Process, Set<Process>>();

  /** Links `a` and `b`; a process linked to itself is not a link. */
  link(a: Process, b: Process): void {
    if (a === b) return;
    this.#peersOf(a).add(b);
    this.#peersOf(b).add(a);
  }

  /** Removes the link between `a` and `b`, if any. */
  unlink(a: Process, b: Process): void {
    this.#peers.get(a)?.delete(b);
    this.#peers.get(b)?.delete(a);
  }

  /** Removes and returns every process linked to `process`, which is exiting. */
  takeAll(process: Process): Process[] {
    const peers = [...(this.#peers.get(process) ?? [])];
    this.#peers.delete(process);
    for (const peer of peers) this.#peers.get(peer)?.delete(process);
    return peers;
  }

  #peersOf(process: Process): Set<Process> {
    let set = this.#peers.get(process);
    if (!set) this.#peers.set(process, (set = new Set()));
    return set;
  }
}
