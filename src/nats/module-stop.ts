/**
 * The wire `stop` of a module, from whichever node it reaches. What it stops is what it found in the modules
 * bucket, named by revision all the way, so that a module created again under the id meanwhile keeps running:
 *
 * - A spec (a module any node can wake): the spec goes first (compare-and-set on its revision), so that no node
 *   wakes the module again, then every node is told to stop its processes of that spec (see module-control.ts).
 * - A claim (a module that stays on its node): that node stops the module it holds under that claim and gives the
 *   id back before it answers, so the id is free once the stop answers. The claim is removed here only when its
 *   node has no such module or is gone (no responders to its ping): never while its node may still be stopping it,
 *   or the id would be free while the module runs. A node alive that does not answer in time (still stopping, or
 *   stalled) fails the stop with `call_timeout`, the claim left as it is: its node gives it back once stopped.
 * @module
 */
import { CallTimeoutError, ModuleNotFoundError } from '../errors.js';
import type { ModuleControl } from './module-control.js';
import type { ModuleHost } from './module-host.js';
import type { ModuleSpecs } from './module-specs.js';
import type { NodePings } from './node-pings.js';

/** What a stop needs of its node. */
export interface ModuleStopDeps {
  readonly host: ModuleHost;
  readonly specs: ModuleSpecs;
  readonly control: ModuleControl;
  readonly nodes: NodePings;
}

/**
 * Stops a module everywhere; see the module comment.
 * @throws {ModuleNotFoundError} when the bucket has neither spec nor claim and no node had a process of it, or the spec
 * it found was removed or replaced before this stop could remove it (a concurrent stop got there first)
 * @throws {CallTimeoutError} when the node a claim names is alive but did not stop the module in time
 */
export async function stopModule(deps: ModuleStopDeps, sessionId: string, moduleId: string): Promise<void> {
  const { host, specs, control } = deps;
  const found = await specs.current(sessionId, moduleId);
  if (found?.local) return stopClaimed(deps, sessionId, moduleId, found.revision, found.local.node);
  if (found) {
    // Removed or written again since it was read: that stop (or the create after it) stands, and this one stopped
    // nothing. Going on without a revision would stop whatever process has the id, a module created again included.
    if (!(await specs.release(sessionId, moduleId, found.revision))) throw new ModuleNotFoundError(sessionId, moduleId);
    await host.stopLocal(sessionId, moduleId, { spec: found.revision });
    await control.stop(sessionId, moduleId, found.revision);
    return;
  }
  // Neither spec nor claim: a process (if any) with no claim, which answers the stop if it is not this node's
  // (asked only when this node had none).
  const stopped = (await host.stopLocal(sessionId, moduleId)) || (await control.stop(sessionId, moduleId));
  if (!stopped) throw new ModuleNotFoundError(sessionId, moduleId);
}

async function stopClaimed(
  deps: ModuleStopDeps,
  sessionId: string,
  moduleId: string,
  revision: number,
  node: string,
): Promise<void> {
  const { host, specs, control } = deps;
  // This node's own: stopped, and its id given back, before this resolves.
  if (await host.stopLocal(sessionId, moduleId, { claim: revision })) return;
  const stopped = control.stopClaimed(sessionId, moduleId, { revision, node });
  stopped.catch(() => {});
  // Asked together: a node gone says so at once (no responders), and then no answer to the stop is waited for.
  const gone = deps.nodes.ping([node]).then((answers) => answers.get(node) === 'gone');
  if (!(await Promise.race([gone, stopped.then(() => false)]))) {
    const answer = await stopped;
    if (answer === true) return;
    if (answer === undefined && !(await gone)) {
      // Unquoted inside: the message puts the whole target in quotes.
      const target = `stop of module ${moduleId} in session ${sessionId} on node ${node}`;
      throw new CallTimeoutError(target, control.stopWaitMs, {
        details: { sessionId, moduleId, node, claimRevision: revision },
      });
    }
  }
  // Its node has no module under this claim, or is gone: the claim is left behind. Removed by compare-and-set: once
  // taken over or given back and claimed again, the key is not this stop's.
  await specs.release(sessionId, moduleId, revision);
}
