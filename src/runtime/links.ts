/**
 * Links (Elixir's `Process.link`): a bidirectional bond through which abnormal exits travel.
 * @module
 */
import type { Process } from './process.js';

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

  /** The processes linked to `process`. */
  peersOf(process: Process): Process[] {
    return [...(this.#peers.get(process) ?? [])];
  }

  #peersOf(process: Process): Set<Process> {
    let set = this.#peers.get(process);
    if (!set) this.#peers.set(process, (set = new Set()));
    return set;
  }
}
