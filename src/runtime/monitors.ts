/**
 * Monitors (Elixir's `Process.monitor`): one-shot DOWN notices when a process exits.
 * @module
 */
import type { ExitReason } from './exit-reason.js';
import type { Process, ProcessRef } from './process.js';

/** The notice a monitor receives once, when its target exits (or at once, with `'noproc'`, if it was not alive). */
export interface DownNotice {
  readonly type: 'DOWN';
  /** The id of the monitor that fired: the `monitor` of the {@link Demonitor} that `monitor()` returned. */
  readonly monitor: string;
  /** The process id; `undefined` when the target was a name nobody holds. */
  readonly id: string | undefined;
  /** The registered name, if any. */
  readonly name: string | undefined;
  readonly reason: ExitReason;
}

/**
 * A function told about the exit, or a process that receives the notice as a `{ type: 'DOWN' }` event: a handle, or
 * a registered name standing for the process that holds it when the monitor is set up (the notice never goes to a
 * later holder of the name).
 */
export type MonitorTarget = ((notice: DownNotice) => void) | { readonly notify: ProcessRef | string };

/**
 * Cancels a monitor; a notice not yet delivered is discarded (Elixir's `demonitor(ref, [:flush])`). Its `monitor`
 * is the monitor's id, which its {@link DownNotice} carries: a process holding several monitors tells which one
 * fired, as Elixir's `:DOWN` message carries the ref `Process.monitor` returned.
 */
export type Demonitor = (() => void) & { readonly monitor: string };

interface Watch {
  readonly id: string;
  /** The process watched; `undefined` for a `'noproc'` notice, which watches nothing. */
  readonly target: Process | undefined;
  readonly deliver: (notice: DownNotice) => void;
  /** The process that holds the monitor, when a process does; its own exit drops the monitor. */
  readonly owner: Process | undefined;
  active: boolean;
}

/**
 * The monitor table. Notices are delivered in a microtask, never inside the exiting actor's XState callbacks:
 * listeners (supervisors especially) start and stop other processes, which must not happen half-way through
 * another actor's teardown. The `'noproc'` case uses the same path, so it is asynchronous too.
 * @internal
 */
export class Monitors {
  readonly #byTarget = new Map<Process, Set<Watch>>();
  readonly #byOwner = new Map<Process, Set<Watch>>();
  #seq = 0;

  /** Watches a live process; `deliver` must not throw (the runtime wraps user listeners). */
  add(target: Process, deliver: (notice: DownNotice) => void, owner?: Process): { id: string; demonitor: Demonitor } {
    const watch: Watch = { id: this.#nextId(), target, deliver, owner, active: true };
    addTo(this.#byTarget, target, watch);
    if (owner) addTo(this.#byOwner, owner, watch);
    const cancel = () => {
      watch.active = false;
      removeFrom(this.#byTarget, target, watch);
      if (owner) removeFrom(this.#byOwner, owner, watch);
    };
    return { id: watch.id, demonitor: Object.assign(cancel, { monitor: watch.id }) };
  }

  /** Answers a monitor on a target that is not alive: one `'noproc'` notice, asynchronously. */
  noproc(
    id: string | undefined,
    name: string | undefined,
    deliver: (notice: DownNotice) => void,
  ): { id: string; demonitor: Demonitor } {
    const watch: Watch = { id: this.#nextId(), target: undefined, deliver, owner: undefined, active: true };
    schedule(watch, { type: 'DOWN', monitor: watch.id, id, name, reason: 'noproc' });
    return { id: watch.id, demonitor: Object.assign(() => void (watch.active = false), { monitor: watch.id }) };
  }

  /** The target exited: queue a notice for each of its monitors, and drop the monitors it held itself. */
  down(target: Process, reason: ExitReason): void {
    const watches = this.#byTarget.get(target);
    this.#byTarget.delete(target);
    for (const watch of watches ?? []) {
      if (watch.owner) removeFrom(this.#byOwner, watch.owner, watch);
      schedule(watch, { type: 'DOWN', monitor: watch.id, id: target.id, name: target.name, reason });
    }
    // Out of their targets' tables too: a long-lived target must not keep every exited watcher (and its actor).
    for (const held of this.#byOwner.get(target) ?? []) {
      held.active = false;
      if (held.target) removeFrom(this.#byTarget, held.target, held);
    }
    this.#byOwner.delete(target);
  }

  #nextId(): string {
    return `#Ref<${++this.#seq}>`;
  }
}

function schedule(watch: Watch, notice: DownNotice): void {
  queueMicrotask(() => {
    if (!watch.active) return;
    watch.active = false;
    watch.deliver(notice);
  });
}

/** Takes `value` out of `key`'s set, and the set out of `map` once empty. */
function removeFrom<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  const set = map.get(key);
  if (!set?.delete(value) || set.size > 0) return;
  map.delete(key);
}

function addTo<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  set.add(value);
}
