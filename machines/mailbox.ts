/**
 * A module process's mailbox: its queued executions in arrival order, as a persistent queue. Each change makes a
 * new mailbox and leaves the one it came from as it was, so a snapshot an inspector kept goes on showing what it
 * showed, and nothing an inspector does to one changes what runs. Adding, taking the first and cancelling one by
 * id each take constant time (amortized), as does looking one up by id.
 *
 * The mailbox was a frozen array copied whole on every change and searched whole for a duplicate id on every
 * `execute`: queueing n executions cost n² (10,000 blocked the node's event loop for about 3 s, 32,000 for over a
 * minute, every session and ping of the process waiting meanwhile).
 *
 * The versions made one from another share one log: the executions ever added, each with the version that cancelled
 * it. A version is a window on that log (`start` to `end`) read as of its own version number, so a later version's
 * cancel, marked in the log with a higher number, is not seen by an earlier one. Only the newest version of a log
 * writes to it; a change to an older one (a test computing a transition from an old snapshot) copies it first.
 * @module
 */
import type { Execution } from './module.types.js';

/** What the versions of one mailbox share. */
interface Log {
  /** Every execution added, in order; only appended to. */
  readonly items: Execution[];
  /** Per item, the version that cancelled it (`Infinity` while it was not). */
  readonly cancelledAt: number[];
  /** The newest version's index of each execution it holds, by id. */
  readonly indexOf: Map<string, number>;
  /** The newest version made on this log. */
  newest: number;
}

/** Below this many dead items a log is not rebuilt: a small copy saves nothing. */
const COMPACT_AFTER = 1024;

/**
 * The queued executions of a module process, oldest first; frozen, every change a new mailbox. Execution ids are
 * unique in it: the module refuses an `execute` whose id one queued or running has already.
 */
export class Mailbox implements Iterable<Execution> {
  static #empty: Mailbox | undefined;

  /** An empty mailbox: adding to it starts a log of its own, so one instance serves every process. */
  static get empty(): Mailbox {
    // Made on first use, not in a static initializer: there tsc's output (a class with private methods) calls the
    // class by an alias it assigns only after the class is defined, and `new` of it threw as the module loaded.
    return (Mailbox.#empty ??= new Mailbox({ items: [], cancelledAt: [], indexOf: new Map(), newest: 0 }, 0, 0, 0, 0));
  }

  readonly #log: Log;
  readonly #start: number;
  readonly #end: number;
  readonly #version: number;
  /** How many executions are queued. */
  readonly length: number;

  private constructor(log: Log, start: number, end: number, version: number, length: number) {
    this.#log = log;
    this.#start = start;
    this.#end = end;
    this.#version = version;
    this.length = length;
    Object.freeze(this);
  }

  /** The oldest queued execution, if any. */
  get first(): Execution | undefined {
    // Every version's start is a queued item (see #advanced), or its end.
    return this.length === 0 ? undefined : this.#log.items[this.#start];
  }

  /** Whether an execution of `executionId` is queued. */
  has(executionId: string): boolean {
    return this.find(executionId) !== undefined;
  }

  /** The queued execution of `executionId`, if any. */
  find(executionId: string): Execution | undefined {
    if (!this.#newest) {
      for (const execution of this) if (execution.executionId === executionId) return execution;
      return undefined;
    }
    const index = this.#log.indexOf.get(executionId);
    return index === undefined ? undefined : this.#log.items[index];
  }

  /** This mailbox with `execution` queued last. */
  with(execution: Execution): Mailbox {
    // An empty mailbox, or an older version, starts a log of its own: the log it has is another version's to write.
    const base = this.length === 0 || !this.#newest ? this.#copy() : this;
    const log = base.#log;
    log.items.push(execution);
    log.cancelledAt.push(Infinity);
    log.indexOf.set(execution.executionId, log.items.length - 1);
    return base.#next(base.#start, log.items.length, base.length + 1);
  }

  /** This mailbox without its first execution (the one taken to run). */
  rest(): Mailbox {
    if (this.length === 0) return this;
    const base = this.#newest ? this : this.#copy();
    const first = base.#log.items[base.#start]!;
    base.#log.indexOf.delete(first.executionId);
    return base.#next(base.#start + 1, base.#end, base.length - 1);
  }

  /** This mailbox without the queued execution of `executionId` (itself when there is none). */
  without(executionId: string): Mailbox {
    if (!this.has(executionId)) return this;
    const base = this.#newest ? this : this.#copy();
    const log = base.#log;
    const index = log.indexOf.get(executionId)!;
    log.indexOf.delete(executionId);
    // Cancelled as of the next version: this one, and every older one, still hold it.
    log.cancelledAt[index] = base.#version + 1;
    return base.#next(base.#start, base.#end, base.length - 1);
  }

  *[Symbol.iterator](): Iterator<Execution> {
    const { items, cancelledAt } = this.#log;
    for (let index = this.#start; index < this.#end; index++) {
      if (cancelledAt[index]! > this.#version) yield items[index]!;
    }
  }

  /** The queued executions as an array, oldest first: what JSON (an inspector's, a snapshot's) shows. */
  toJSON(): Execution[] {
    return [...this];
  }

  /** Whether this is the newest version of its log, the one that may write to it. */
  get #newest(): boolean {
    return this.#version === this.#log.newest;
  }

  /** The next version of this (newest) one, rebuilt on a log of its own once most of the log it would keep is dead. */
  #next(start: number, end: number, length: number): Mailbox {
    const log = this.#log;
    const version = ++log.newest;
    const from = this.#advanced(start, end, version);
    const next = new Mailbox(log, from, end, version, length);
    const dead = end - length;
    return dead > COMPACT_AFTER && dead > length ? next.#copy() : next;
  }

  /** `start` moved past the items cancelled as of `version`, so that a version's start is its first queued item. */
  #advanced(start: number, end: number, version: number): number {
    let index = start;
    while (index < end && this.#log.cancelledAt[index]! <= version) index++;
    return index;
  }

  /** This mailbox on a log of its own, holding only its queued executions. */
  #copy(): Mailbox {
    const items = [...this];
    const indexOf = new Map(items.map((execution, index) => [execution.executionId, index]));
    const log: Log = { items, cancelledAt: items.map(() => Infinity), indexOf, newest: 0 };
    return new Mailbox(log, 0, items.length, 0, items.length);
  }
}
