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
 *
 * Outages. While the node's connection is down, a creation fails at once with `StoreUnavailableError` (the bucket
 * cannot be asked), and a module ending here keeps its claim: the node gives it back once it is connected again,
 * and a node that stops before that leaves it to be taken over (no node answers for it then). While it is connected,
 * a bucket whose stream has no leader (an election) is waited for as by every store operation, up to
 * `unavailableRetryMs` (see retry-unavailable.ts), and then fails with `StoreUnavailableError` too; a release that
 * fails so keeps its claim as well, until the next reconnection or a takeover.
 * @module
 */
import { AlreadyExistsError, StoreUnavailableError } from '../errors.js';
import type { SharedSpec } from './module-host.js';
import type { LocalClaim } from './module-records.js';
import type { ModuleSpecs } from './module-specs.js';
import type { ModuleForward } from './module-forward.js';
import type { WireModuleSpec } from './module-wire-spec.js';

/** A claim of a module that stays on this node, as {@link ModuleClaims.local} resolves to it. */
export interface LocalModuleClaim extends SharedSpec {
  readonly local: {
    /**
     * Gives the id back: the other nodes no longer reach the module here, and the claim goes unless the key changed
     * since (taken over: then it is not this node's). Once per claim (later calls share the first); never rejects
     * (a failure is reported). While the connection is down the claim stays, and goes once it is back
     * ({@link ModuleClaims.retryReleases}).
     */
    release(): Promise<void>;
  };
}

/** What claims are made with. */
export interface ModuleClaimsDeps {
  readonly specs: Pick<ModuleSpecs, 'bucket' | 'claim' | 'current' | 'release' | 'holds'>;
  readonly forward: Pick<ModuleForward, 'answers'>;
  /** Makes the module reachable on its forward subjects from this node; resolves to the function that ends it. */
  serve(sessionId: string, moduleId: string): Promise<() => Promise<void>>;
  /** This node's instance id of the `tether` service, written in its claims. */
  node(): string;
  /** Whether the node's connection is up: while it is down, the bucket cannot be written. */
  connected(): boolean;
  /** Told about failures no caller waits for (a release at a module's end). */
  report(error: unknown, where: string): void;
}

/** A node's claims of module ids. */
export interface ModuleClaims {
  /**
   * Writes the spec of a new module (one any node can wake); resolves to its revision.
   * @throws {AlreadyExistsError} when the id is taken: a spec, or a claim a node answers for
   * @throws {StoreUnavailableError} when the bucket cannot be reached (the connection is down); nothing was written
   */
  shared(sessionId: string, moduleId: string, spec: WireModuleSpec): Promise<number>;
  /**
   * Claims the id for a module that stays on this node and makes the module reachable from the other nodes (their
   * requests for it wait here until it is built). `release` undoes both.
   * @throws {AlreadyExistsError} when the id is taken, or taken over by another creation before this one was through
   * @throws {StoreUnavailableError} when the bucket cannot be reached (the connection is down); nothing was written
   */
  local(sessionId: string, moduleId: string): Promise<LocalModuleClaim>;
  /**
   * Whether the id is taken now, as {@link ModuleClaims.shared} would find it: a spec, or a claim a node answers for.
   * A read only, for a creation refused before it claimed (see module-directory.ts).
   */
  taken(sessionId: string, moduleId: string): Promise<boolean>;
  /** Gives back the claims whose modules ended while the connection was down; call once it is back. */
  retryReleases(): void;
  /**
   * Resolves once every release under way is through: the node closes its connection after. Not while the
   * connection is down: those releases cannot be made, and their claims are taken over later (no node answers).
   */
  settled(): Promise<void>;
}

/** How many writes one claim tries: a key found free again after a failed write is tried once more, then refused. */
const MAX_ROUNDS = 3;

/** The claims of a node. */
export function createModuleClaims(deps: ModuleClaimsDeps): ModuleClaims {
  const { specs } = deps;
  /** Releases under way, by `<session>.<module>`. */
  const releasing = new Map<string, Promise<void>>();
  /** Claims whose modules ended while the connection was down, by key: the revision to remove. */
  const leftBehind = new Map<string, { sessionId: string; moduleId: string; revision: number }>();

  /** Refused before anything was sent: nothing was written, and nothing was waited for. */
  const unavailable = (sessionId: string, moduleId: string, operation: string): StoreUnavailableError =>
    new StoreUnavailableError(specs.bucket, `${sessionId}.${moduleId}`, operation, 0, 'not_applied', {
      what: `${operation} of module '${moduleId}' in session '${sessionId}'`,
      reason: 'NATS connection lost; reconnecting',
      details: { sessionId, moduleId },
    });

  /** Writes `value` under the id, taking over a claim nobody answers for; see the module comment. */
  const write = async (sessionId: string, moduleId: string, value: WireModuleSpec | LocalClaim): Promise<number> => {
    // At once: the bucket's retries would hold the caller for up to `unavailableRetryMs` on an outage of unknown
    // length (a reconnection can take minutes), where an election is over in seconds.
    if (!deps.connected()) throw unavailable(sessionId, moduleId, 'create');
    // This node giving the id back (its module just ended) goes first: asked whether anyone answers for the module,
    // its own forward subscription, still draining, would wait for this very creation.
    await releasing.get(`${sessionId}.${moduleId}`);
    // `undefined`: the key is expected free; a revision: the stale claim this creation takes over.
    let replacing: number | undefined;
    let refused: unknown;
    for (let round = 0; round < MAX_ROUNDS; round += 1) {
      try {
        const revision = await specs.claim(sessionId, moduleId, value, replacing);
        // A claim of this node's that was waiting to be given back is gone with this write.
        leftBehind.delete(`${sessionId}.${moduleId}`);
        return revision;
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

  /** Removes the claim made at `revision`; one that cannot be removed for want of NATS is kept for later. */
  const giveBack = async (sessionId: string, moduleId: string, revision: number): Promise<void> => {
    const key = `${sessionId}.${moduleId}`;
    if (!deps.connected()) {
      leftBehind.set(key, { sessionId, moduleId, revision });
      return;
    }
    try {
      await specs.release(sessionId, moduleId, revision);
    } catch (error) {
      if (error instanceof StoreUnavailableError) leftBehind.set(key, { sessionId, moduleId, revision });
      throw error;
    }
  };

  const track = (key: string, release: Promise<void>): Promise<void> => {
    releasing.set(key, release);
    void release.finally(() => {
      if (releasing.get(key) === release) releasing.delete(key);
    });
    return release;
  };

  /** Runs `steps` together, reporting the failures: a release has no caller to tell. */
  const reporting = async (where: string, steps: Promise<unknown>[]): Promise<void> => {
    for (const result of await Promise.allSettled(steps))
      if (result.status === 'rejected') deps.report(result.reason, where);
  };

  return {
    shared: write,

    async taken(sessionId, moduleId) {
      const found = await specs.current(sessionId, moduleId);
      if (found === undefined) return false;
      return found.local === undefined || (await deps.forward.answers(sessionId, moduleId));
    },

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
        await Promise.allSettled([unserve?.(), giveBack(sessionId, moduleId, first)]);
        throw error;
      }
      const served = unserve;
      const key = `${sessionId}.${moduleId}`;
      const where = `releasing module ${moduleId} of session ${sessionId}`;
      let released: Promise<void> | undefined;
      return {
        revision,
        stillShared: () => specs.holds(sessionId, moduleId, revision),
        local: {
          release: () =>
            (released ??= track(key, reporting(where, [served(), giveBack(sessionId, moduleId, revision)]))),
        },
      };
    },

    retryReleases() {
      // A copy: a release that fails again for want of NATS puts its claim back.
      for (const [key, { sessionId, moduleId, revision }] of [...leftBehind]) {
        if (releasing.has(key)) continue;
        leftBehind.delete(key);
        void track(
          key,
          reporting(`releasing module ${moduleId} of session ${sessionId}`, [giveBack(sessionId, moduleId, revision)]),
        );
      }
    },

    async settled() {
      if (deps.connected()) await Promise.allSettled([...releasing.values()]);
    },
  };
}
