/**
 * A module process on a NATS node stays true to the modules bucket it was started from: to a spec any node can
 * wake, or to this node's claim of the id for a module that stays here (see `SharedSpec`). A stop removes the spec
 * first (or names the claim), so a process serves only while the bucket still holds what it was started from, and
 * a module that stays here gives its id back once it has stopped, never before.
 * @module
 */
import { ModuleNotFoundError, SessionError } from '../errors.js';
import type { ModuleHandle } from '../modules/module-handle.js';
import type { SharedSpec, StopScope } from '../nats/module-host.js';
import type { NatsNode } from '../nats/nats-node.js';
import type { ModuleEntry } from './module-entry.js';

/**
 * Keeps a process started from a shared spec only while the bucket still holds that spec: a stop removes the spec
 * first, and when it did so while the process was starting, its stop may have looked here too early.
 * @throws {ModuleNotFoundError} when the spec is gone (the process is stopped then)
 */
export async function keepIfShared(entry: ModuleEntry, shared: SharedSpec): Promise<ModuleHandle> {
  const { handle } = entry;
  let kept = false;
  try {
    kept = await shared.stillShared();
  } finally {
    if (!kept) await entry.stopProcess();
  }
  if (!kept) throw new ModuleNotFoundError(handle.sessionId, handle.moduleId);
  return handle;
}

/**
 * Whether a running process may serve: yes, unless the connection dropped since it started and the bucket no
 * longer holds its spec (then it is stopped here).
 */
export async function stillCurrent(entry: ModuleEntry): Promise<boolean> {
  if (!entry.recheck || !entry.shared) return true;
  if (await entry.shared.stillShared()) {
    entry.recheck = false;
    return true;
  }
  await entry.stopProcess();
  return false;
}

/**
 * Stops this node's process of a module; one that stays here then gives its id back before this resolves (its
 * release is under way from the module's end): whoever stopped it may create the id again, on any node, at once.
 * Stopped first, released after: the id is never free while the module still runs here. `why`: what the module's
 * handle tells its callers from then on (see `ModuleEntry.stopProcess`).
 */
export async function stopHere(entry: ModuleEntry, why?: () => Error): Promise<void> {
  await entry.stopProcess(why);
  await entry.shared?.local?.release();
}

/**
 * An explicit stop of a module through its handle: a shared module is stopped everywhere (its spec removed,
 * every node told), as the wire `stop` does; a module that stays on this node stops, then gives its id back.
 * `sharing` is the node's NATS side, if it has one (see `ModuleDirectory.share`).
 */
export async function stopByHandle(
  entry: ModuleEntry,
  sharing: Pick<NatsNode, 'removeModule'> | undefined,
): Promise<void> {
  const { shared } = entry;
  if (shared?.local || !shared || !sharing) return stopHere(entry);
  // Its process ended with its session's stop on this node, which leaves the spec to the other nodes: this handle
  // gave the module up and must not remove it for everyone, as a remote handle of a stopped session does not.
  const ending = entry.endError;
  if (ending instanceof SessionError && ending.code === 'session_stopped') throw ending;
  try {
    await sharing.removeModule(entry.handle.sessionId, entry.handle.moduleId, shared.revision);
  } finally {
    // Stopped here even when the bucket cannot be reached: a stop must never leave this process running.
    await entry.stopProcess();
  }
}

/**
 * Whether a stop of `scope` is for a process started from `shared` (see {@link StopScope}). A stop with no scope found
 * neither spec nor claim in the bucket: it is for a process that has none either, not for one started from a spec
 * written since it looked (a creation racing it), which it would have stopped while its spec stayed.
 */
export function inScope(shared: SharedSpec | undefined, scope: StopScope | undefined): boolean {
  if (scope === undefined) return shared === undefined;
  if (scope.claim !== undefined) return shared?.local !== undefined && shared.revision === scope.claim;
  return shared !== undefined && shared.revision <= scope.spec;
}
