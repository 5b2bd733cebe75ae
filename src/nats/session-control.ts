/**
 * Node-to-node control of a session's end. A session may have processes on every node (requests are spread by the
 * queue group), so when it is deleted, or expires, the node that removed its record tells all of them on
 * `<prefix>.v1.control.<sid>.session.end` (every node subscribes, no queue group), with the reason and the life
 * of the session (`incarnation`) that ended. Each node forgets the session and ends what it has of it: its session
 * process (after a write in flight, so that no write of it lands later), its module processes, its watchers.
 *
 * The sender must know when that is done before it removes the variables, yet nobody knows how many nodes there
 * are. So every node answers at once, and a node that has something to end answers `done: false` first and
 * `done: true` once it has ended it. The sender waits until it has heard from at least one node, none is still
 * ending, and nothing more arrived for a short quiet time (a node that answers later than that is not waited
 * for; the removal's second pass and the record checks deal with what it may still write, see
 * session-removal.ts), or until its wait runs out.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { createInbox, type NatsConnection, type Subscription } from 'nats';
import type { TetherSubjects } from './subjects.js';
import { encodeJson } from './wire.js';
import { guarded } from './guarded-callback.js';
import { jsonObjectBody } from './json-object-body.js';
import { subscribeNeeded } from './needed-subscription.js';

/** Why a session ends on every node. */
export type SessionEndReason = 'deleted' | 'expired';

/** What a node has of a session when told it ended: whether anything, and when it has ended that. */
export interface LocalEnd {
  readonly had: boolean;
  readonly done: Promise<void>;
}

/** Options of {@link startSessionControl}. */
export interface SessionControlOptions {
  /** How long the sender waits for more answers once the last one came. @default 50 */
  readonly quietMs?: number;
  /** The longest the sender waits in all. @default 5000 */
  readonly waitMs?: number;
  /** Told about control messages that failed (never thrown at the sender). */
  readonly report: (error: unknown, where: string) => void;
}

/** A node's side of session control. */
export interface SessionControl {
  /**
   * Tells every node (this one included) that the session's life `incarnation` ended; resolves once the nodes
   * that answered have ended what they had of it (see the module comment), `false` when the wait ran out first.
   */
  end(sessionId: string, incarnation: string, reason: SessionEndReason): Promise<boolean>;
  /** Unsubscribes. */
  close(): void;
}

/**
 * Subscribes this node to the session control subject; `endLocal` ends what this node has of a session.
 * Resolves once the server has the subscription.
 * @throws {NatsConnectionError} `refused` (`details.subject`) when the server refused it
 */
export async function startSessionControl(
  connection: NatsConnection,
  subjects: TetherSubjects,
  endLocal: (sessionId: string, incarnation: string | undefined, reason: SessionEndReason) => LocalEnd,
  options: SessionControlOptions,
): Promise<SessionControl> {
  const quietMs = options.quietMs ?? 50;
  const waitMs = options.waitMs ?? 5000;
  const node = randomUUID();

  // Needed: a node that cannot hear the end of a session would keep serving a deleted one's handles.
  const subscription = await subscribeNeeded(connection, subjects.sessionControls(), {
    what: 'session control subscription',
    prefix: subjects.prefix,
    report: options.report,
    onMessage(msg) {
      const sessionId = subjects.parseSessionControl(msg.subject);
      if (sessionId === undefined) return;
      const body = jsonObjectBody(msg.data);
      if (!body) return;
      const reason: SessionEndReason = body.reason === 'expired' ? 'expired' : 'deleted';
      const incarnation = typeof body.incarnation === 'string' ? body.incarnation : undefined;
      const answer = (done: boolean): void => {
        if (!msg.reply) return;
        try {
          msg.respond(encodeJson({ node, done }));
        } catch (failure) {
          options.report(failure, `answering the end of session ${sessionId}`);
        }
      };
      let local: LocalEnd;
      try {
        local = endLocal(sessionId, incarnation, reason);
      } catch (failure) {
        options.report(failure, `ending session ${sessionId}`);
        return answer(true);
      }
      if (!local.had) return answer(true);
      answer(false);
      local.done.then(
        () => answer(true),
        (failure: unknown) => {
          options.report(failure, `ending session ${sessionId}`);
          answer(true);
        },
      );
    },
  });

  return {
    async end(sessionId, incarnation, reason) {
      const inbox = createInbox();
      const ending = new Set<string>();
      let heard = false;
      let quiet: ReturnType<typeof setTimeout> | undefined;
      let deadline: ReturnType<typeof setTimeout> | undefined;
      let replies: Subscription | undefined;
      const finished = new Promise<boolean>((resolve) => {
        const finish = (complete: boolean): void => {
          clearTimeout(quiet);
          clearTimeout(deadline);
          replies?.unsubscribe();
          resolve(complete);
        };
        const settleLater = (): void => {
          clearTimeout(quiet);
          if (heard && ending.size === 0) quiet = setTimeout(() => finish(true), quietMs);
        };
        replies = connection.subscribe(inbox, {
          callback: guarded(options.report, 'session end answers', (error, msg) => {
            if (error) return;
            const answer = jsonObjectBody(msg.data);
            if (typeof answer?.node !== 'string') return;
            heard = true;
            if (answer.done === true) ending.delete(answer.node);
            else ending.add(answer.node);
            settleLater();
          }),
        });
        deadline = setTimeout(() => finish(false), waitMs);
      });
      connection.publish(subjects.sessionControl(sessionId), encodeJson({ reason, incarnation }), { reply: inbox });
      return finished;
    },
    close() {
      subscription.unsubscribe();
    },
  };
}
