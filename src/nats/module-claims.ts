/**
 * Module ids in the modules bucket: one namespace for both kinds of module. A module whose spec is JSON has its
 * spec there (any node can wake it); one whose spec holds functions stays on the node that created it and has a
 * {@link LocalClaim} there instead, naming that node. Either is written create-if-absent, so creating an id that
 * exists anywhere in the cluster fails with `AlreadyExistsError`, whichever node and kind, and changes nothing.
 *
 * A claim is given back when its module ends on its node (stopped, crashed, its session ended there, the node
 * stopped). A node that dies (crash, kill -9, its machine gone) gives nothing back, so a creation that meets a claim
 * asks whether a node answers for the module on its forward subject (`ModuleForward.answers`): when none does (no
 * responders, the node lost while asked, or `module_not_found`), the creation takes the id over with a
 * compare-and-set on the claim's revision. Any other answer, a timeout included, leaves the id taken.
 *
 * Races. The check and the takeover are two steps, and the owner of a claim being created does not answer yet (it
 * subscribes once its claim is written): so a claim is written twice, once to take the id and again, with a
 * compare-and-set on the first write, once its node answers on the forward subject. A creation that found nobody
 * answering between the two writes takes the id over, and then the owner's second write fails: of two creations
 * of one id that overlap, exactly one wins and the other gets `AlreadyExistsError`. Two creations taking over the
 * same stale claim both expect its revision: one write lands, and the other, finding the key written since, gives
 * up with `AlreadyExistsError` without asking again (the winner does not answer yet either). Only a key found
 * free again (its claim given back meanwhile) is tried again.
 * @module
 */
import { AlreadyExistsError } from '../errors.js';
import type { SharedSpec } from './module-host.js';
import type { LocalClaim, ModuleSpecs } from './module-specs.js';
import type { ModuleForward } from './module-forward.js';
import type { WireModuleSpec } from './module-wire-spec.js';

/** A claim of a module that stays on this node, as {@link ModuleClaims.local} resolves to it. */
export interface LocalModuleClaim extends SharedSpec {
  readonly local: {
    /**
     * Gives the id back: the other nodes no longer reach the module here, and the claim goes unless the key changed
     * since (taken over: then it is not this node's). Once per claim (later calls share the first); never rejects
     * (a failure is reported, and a claim left behind is taken over by the next creation of the id, since no node
     * answers for it any more).
     */
    release(): Promise<void>;
  };
}

/** What claims are made with. */
export interface ModuleClaimsDeps {
  readonly specs: ModuleSpecs;
  readonly forward: Pick<ModuleForward, 'answers'>;
  /** Makes the module reachable on its forward subjects from this node; resolves to the function that ends it. */
  serve(sessionId: string, moduleId: string): Promise<() => Promise<void>>;
  /** This node's instance id of the `tether` service, written in its claims. */
  node(): string;
  /** Told about failures no caller waits for (a release at a module's end). */
  report(error: unknown, where: string): void;
}

/** A node's claims of module ids. */
export interface ModuleClaims {
  /**
   * Writes the spec of a new module (one any node can wake); resolves to its revision.
   * @throws {AlreadyExistsError} when the id is taken: a spec, or a claim a node answers for
   */
  shared(sessionId: string, moduleId: string, spec: WireModuleSpec): Promise<number>;
  /**
   * Claims the id for a module that stays on this node and makes the module reachable from the other nodes (their
   * requests for it wait here until it is built). `release` undoes both.
   * @throws {AlreadyExistsError} when the id is taken, or taken over by another creation before this one was through
   */
  local(sessionId: string, moduleId: string): Promise<LocalModuleClaim>;
  /** Resolves once every release under way is through: the node closes its connection after. */
  settled(): Promise<void>;
}

/** How many writes one claim tries: a key found free again after a failed write is tried once more, then refused. */
const MAX_ROUNDS = 3;

/** The claims of a node. */
export function createModuleClaims(deps: ModuleClaimsDeps): ModuleClaims {
  const { specs } = deps;
  /** Releases under way, by `<session>.<module>`. */
  const releasing = new Map<string, Promise<void>>();

  /** Writes `value` under the id, taking over a claim nobody answers for; see the module comment. */
  const write = async (sessionId: string, moduleId: string, value: WireModuleSpec | LocalClaim): Promise<number> => {
    // This node giving the id back (its module just ended) goes first: asked whether anyone answers for the module,
    // its own forward subscription, still draining, would wait for this very creation.
    await releasing.get(`${sessionId}.${moduleId}`);
    // `undefined`: the key is expected free; a revision: the stale claim this creation takes over.
    let replacing: number | undefined;
    let refused: unknown;
    for (let round = 0; round < MAX_ROUNDS; round += 1) {
      try {
        return await specs.claim(sessionId, moduleId, value, replacing);
      } catch (error) {
        if (!(error instanceof AlreadyExistsError)) throw error;
        refused = error;
      }
      const found = await specs.current(sessionId, moduleId);
      // Given back meanwhile: free again.
      if (found === undefined) {
        replacing = undefined;
        continue;
      }
      // Written since this creation found it stale: another creation took it over (or its owner came back).
      if (replacing !== undefined || found.local === undefined) throw refused;
      if (await deps.forward.answers(sessionId, moduleId))
        throw new AlreadyExistsError('module', moduleId, { details: { sessionId, node: found.local.node } });
      replacing = found.revision;
    }
    throw refused;
  };

  const track = (key: string, release: Promise<void>): Promise<void> => {
    releasing.set(key, release);
    void release.finally(() => {
      if (releasing.get(key) === release) releasing.delete(key);
    });
    return release;
  };

  return {
    shared: write,

    async local(sessionId, moduleId) {
      const claim: LocalClaim = { nodeLocal: true, node: deps.node(), claimedAt: new Date().toISOString() };
      const first = await write(sessionId, moduleId, claim);
      let unserve: (() => Promise<void>) | undefined;
      let revision: number;
      try {
        unserve = await deps.serve(sessionId, moduleId);
        // Now that this node answers for it: a creation that took the id over meanwhile makes this write fail.
        revision = await specs.claim(sessionId, moduleId, claim, first);
      } catch (error) {
        await Promise.allSettled([unserve?.(), specs.release(sessionId, moduleId, first)]);
        throw error;
      }
      const served = unserve;
      let released: Promise<void> | undefined;
      return {
        revision,
        stillShared: () => specs.holds(sessionId, moduleId, revision),
        local: {
          release: () =>
            (released ??= track(
              `${sessionId}.${moduleId}`,
              (async () => {
                const done = await Promise.allSettled([served(), specs.release(sessionId, moduleId, revision)]);
                for (const result of done)
                  if (result.status === 'rejected')
                    deps.report(result.reason, `releasing module ${moduleId} of session ${sessionId}`);
              })(),
            )),
        },
      };
    },

    async settled() {
      await Promise.allSettled([...releasing.values()]);
    },
  };
}
