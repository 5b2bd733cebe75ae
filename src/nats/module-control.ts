/**
 * Node-to-node control of module processes. Any node may be running a process for a module (requests are spread
 * by the queue group), so a `cancel` or a `stop` that reaches one node is passed on to all of them on
 * `<prefix>.v1.control.<sid>.module.<mid>.<op>`, a subject every node subscribes to without a queue group.
 *
 * A stop names what it is for (see `StopScope`), so that a module created again meanwhile keeps running:
 * - `{ revision }`: the spec it removed from the modules bucket. Nodes stop their processes of that spec (or an
 *   older one) and nothing answers. A node offline then never gets the message: the watch of the modules bucket is
 *   what makes sure every node stops (see `ModuleHost.specWritten`); the message only stops them sooner.
 * - `{ claim, node }`: the claim of a module that stays on the node `node` (its spec holds functions; the bucket
 *   has that node's claim, not its spec). That node stops the module it holds under that claim, gives the id back,
 *   and answers `{ stopped: true }`, or `{ stopped: false }` when it has no such module; no other node answers.
 * - `{}`: a stop that found neither; a node with a process of the module that has no claim stops it and answers.
 *
 * Such a module's `execute` and `describe` do not come this way (every node would hear them, and an execution must
 * run once): they go to its node alone, on the module's forward subjects (see module-forward.ts).
 *
 * Cancel is best effort: the node that finds the execution in its mailbox (queued or running) cancels it and
 * answers, as does the node that holds it on its way to a mailbox (waiting for read-your-writes, a wake), which
 * remembers the cancel and so stops it at the mailbox's door; the asking node waits for the first answer, or
 * `cancelWaitMs`, and reports whether one came. A cancel can also overtake its execution (an abort right after
 * sending it): every node remembers the ids it could not find for `rememberMs`, and an execution that arrives with
 * one of them is refused as aborted instead of run. A node that found it says so on the same subject
 * (`{ executionId, found: true }`), and the others forget it: a cancel that found its execution is no reason to
 * refuse a retry sent under the same id.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { RequestStrategy, type Msg, type NatsConnection } from 'nats';
import type { ModuleHost, StopScope } from './module-host.js';
import type { TetherSubjects } from './subjects.js';
import type { EventOutbox } from './event-outbox.js';
import { executionReplyKey } from './execution-replies.js';
import { ExpiringKeys } from './expiring-keys.js';
import { encodeJson } from './wire.js';
import { jsonObjectBody } from './json-object-body.js';
import { subscribeNeeded } from './needed-subscription.js';

/** Options of {@link startModuleControl}. */
export interface ModuleControlOptions {
  /** How long a cancel waits for a node to say it cancelled. @default 500 */
  readonly cancelWaitMs?: number;
  /** How long a node remembers a cancel it could not apply. @default 60_000 */
  readonly rememberMs?: number;
  /** Told about control messages that failed (never thrown at the sender). */
  readonly report: (error: unknown, where: string) => void;
  /** The node's events: the `module.failed` of a cancel leaves ahead of the cancel's answer, in the same write. */
  readonly outbox?: EventOutbox;
  /**
   * How long a stop of a claimed module waits for its node's answer: the node stops the module and gives its id
   * back (a KV write) first. Below the remote client's default request timeout (5 s). @default 2_000
   */
  readonly stopWaitMs?: number;
  /** This node's instance id of the `tether` service (a stop of a claim names the node that answers). */
  readonly node?: () => string | undefined;
}

/** A node's side of module control. */
export interface ModuleControl {
  /** Asks every node to cancel `executionId`; resolves `true` when one of them did. */
  cancel(sessionId: string, moduleId: string, executionId: string, reason?: string): Promise<boolean>;
  /**
   * Tells every other node to stop its process of the module (this node stops its own through its host). With
   * `removedRevision`, the revision of the spec the stop removed from the modules bucket, nodes stop processes of
   * that spec (or older) and nothing answers: resolves `false`. Without it, a node that stopped a process with no
   * claim answers within the cancel wait: resolves `true` when one did.
   */
  stop(sessionId: string, moduleId: string, removedRevision?: number): Promise<boolean>;
  /**
   * Tells the node `claim.node` to stop the module it holds under the claim written at `claim.revision` and to give
   * the id back. Resolves `true` once it has, `false` when it has no module under that claim, `undefined` when it
   * did not answer within `stopWaitMs` (gone, cut off, or still stopping).
   */
  stopClaimed(
    sessionId: string,
    moduleId: string,
    claim: { readonly revision: number; readonly node: string },
  ): Promise<boolean | undefined>;
  /** How long {@link ModuleControl.stopClaimed} waits. */
  readonly stopWaitMs: number;
  /**
   * Whether a cancel of `executionId` of this session's module arrived before the execution did: then it must not
   * run. Keyed by all three: a cancel sent elsewhere (another session, another module) under the same id is not this
   * execution's.
   */
  cancelledEarly(sessionId: string, moduleId: string, executionId: string): boolean;
  /**
   * The execution `key` (see `executionReplyKey`) is in this node's hands but in no mailbox yet: it waits for
   * read-your-writes, or for its session or module to wake. Until the returned function is called, a cancel of it is
   * answered `cancelled: true` by this node, and remembered, so that {@link ModuleControl.cancelledEarly} stops it
   * before it enters a mailbox (or is passed on). Call the returned function right before that check.
   */
  hold(key: string): () => void;
  /** Unsubscribes. */
  close(): void;
}

/** Upper bound of remembered cancels, so a flood of cancels for unknown ids cannot grow memory without end. */
const MAX_REMEMBERED = 10_000;

/**
 * Subscribes this node to the control subject; resolves once the server has the subscription.
 * @throws {NatsConnectionError} `refused` (`details.subject`) when the server refused it
 */
export async function startModuleControl(
  connection: NatsConnection,
  subjects: TetherSubjects,
  host: ModuleHost,
  options: ModuleControlOptions,
): Promise<ModuleControl> {
  const cancelWaitMs = options.cancelWaitMs ?? 500;
  const stopWaitMs = options.stopWaitMs ?? 2_000;
  const rememberMs = options.rememberMs ?? 60_000;
  /** The executions (keyed by `executionReplyKey`) cancelled before they reached this node. */
  const early = new ExpiringKeys(MAX_REMEMBERED);
  /**
   * The executions another node has just found and cancelled: a cancel found is remembered by no node (a retry under
   * the same id must run wherever it lands), and this node may hear so before its own search came back empty.
   */
  const foundElsewhere = new ExpiringKeys(MAX_REMEMBERED);
  const remember = (key: string): void => {
    if (!foundElsewhere.take(key)) early.add(key, rememberMs);
  };
  /** Tells a notice this node sent from another node's. */
  const self = randomUUID();
  /** The executions in hand here that are in no mailbox yet (see `hold`), counted: an id may be sent twice. */
  const held = new Map<string, number>();

  // Needed: a node that cannot hear a stop would keep running a module stopped everywhere else.
  const subscription = await subscribeNeeded(connection, subjects.moduleControls(), {
    what: 'module control subscription',
    prefix: subjects.prefix,
    report: options.report,
    onMessage(msg) {
      const target = subjects.parseModuleControl(msg.subject);
      if (!target) return;
      const body = jsonObjectBody(msg.data);
      if (!body) return;
      if (target.operation === 'stop') {
        const scope: StopScope | undefined =
          typeof body.revision === 'number'
            ? { spec: body.revision }
            : typeof body.claim === 'number'
              ? { claim: body.claim }
              : undefined;
        const named = scope?.claim !== undefined && typeof body.node === 'string' && body.node === options.node?.();
        host.stopLocal(target.sessionId, target.moduleId, scope).then(
          // A stop that removed a spec waits for no answer; a stop of a claim hears from the node it names.
          (stopped) => {
            if (scope?.spec === undefined && (stopped || named)) msg.respond(encodeJson({ stopped }));
          },
          (failure: unknown) => options.report(failure, `stopping module ${target.moduleId}`),
        );
        return;
      }
      if (typeof body.executionId !== 'string') return;
      const executionId = body.executionId;
      const reason = typeof body.reason === 'string' ? body.reason : undefined;
      const key = executionReplyKey(target.sessionId, target.moduleId, executionId);
      if (body.found === true) {
        if (body.by !== self) {
          early.take(key);
          foundElsewhere.add(key, 2 * cancelWaitMs);
        }
        return;
      }
      // Held here on its way to a mailbox: remembered at once, it is stopped at the door (see `hold`).
      const onItsWay = held.has(key);
      if (onItsWay) remember(key);
      host.cancel(target.sessionId, target.moduleId, executionId, reason).then(
        (cancelled) => {
          // Only the node that had it answers: silence from the others is what lets the first answer count.
          if (!cancelled && !onItsWay) return remember(key);
          options.outbox?.sendNow();
          msg.respond(encodeJson({ cancelled: true }));
          // The other nodes, which found nothing, forget the cancel (this one keeps it for one on its way here).
          connection.publish(msg.subject, encodeJson({ executionId, found: true, by: self }));
        },
        (failure: unknown) => {
          remember(key);
          options.report(failure, `cancelling execution ${executionId}`);
        },
      );
    },
  });

  /** Asks every node; resolves to the first answer within `waitMs` (only a node that acted, or was named, answers). */
  const firstAnswer = async (subject: string, body: Uint8Array, waitMs = cancelWaitMs): Promise<Msg | undefined> => {
    const replies = await connection.requestMany(subject, body, {
      strategy: RequestStrategy.Count,
      maxMessages: 1,
      maxWait: waitMs,
    });
    for await (const reply of replies) return reply;
    return undefined;
  };

  return {
    async cancel(sessionId, moduleId, executionId, reason) {
      const subject = subjects.moduleControl(sessionId, moduleId, 'cancel');
      const body = encodeJson({ executionId, ...(reason === undefined ? {} : { reason }) });
      return (await firstAnswer(subject, body)) !== undefined;
    },
    async stop(sessionId, moduleId, removedRevision) {
      const subject = subjects.moduleControl(sessionId, moduleId, 'stop');
      if (removedRevision !== undefined) {
        connection.publish(subject, encodeJson({ revision: removedRevision }));
        await connection.flush();
        return false;
      }
      return (await firstAnswer(subject, encodeJson({}))) !== undefined;
    },
    async stopClaimed(sessionId, moduleId, claim) {
      const subject = subjects.moduleControl(sessionId, moduleId, 'stop');
      const reply = await firstAnswer(subject, encodeJson({ claim: claim.revision, node: claim.node }), stopWaitMs);
      if (reply === undefined) return undefined;
      return jsonObjectBody(reply.data)?.stopped === true;
    },
    stopWaitMs,
    cancelledEarly(sessionId, moduleId, executionId) {
      return early.take(executionReplyKey(sessionId, moduleId, executionId));
    },
    hold(key) {
      held.set(key, (held.get(key) ?? 0) + 1);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        const left = held.get(key)! - 1;
        if (left === 0) held.delete(key);
        else held.set(key, left);
      };
    },
    close() {
      subscription.unsubscribe();
    },
  };
}
