/**
 * The request side of the remote client: one NATS connection, the subjects, the revisions seen (client-revisions.ts:
 * read-your-writes across nodes), and the mapping of NATS failures to Tether errors (request-failure.ts). A request
 * whose wait saw this client's own connection drop blames that connection (`nats_connection`), not the node; an
 * execution whose reply was lost that way is asked of the node that took it once the connection is back
 * (lost-reply-recovery.ts).
 * @module
 */
import { ErrorCode, NatsError, type NatsConnection } from 'nats';
import { CallTimeoutError, InternalError, NatsConnectionError } from '../errors.js';
import { SerialTasks } from '../session/serial-tasks.js';
import { ClientRevisions } from './client-revisions.js';
import { connectionBack, createConnectionLink, type ConnectionLink } from './connection-link.js';
import type { ConnectionChange } from './connection-options.js';
import { takeCensus } from './execution-census.js';
import { askExecutionOutcome } from './lost-reply-recovery.js';
import { ALL_NODES, type TetherSubjects } from './subjects.js';
import { ReplyInbox } from './reply-inbox.js';
import { rideOutNoResponders } from './no-responders-ride.js';
import {
  closedBeforeSending,
  downUntilTimeout,
  droppedWhileWaiting,
  nodeLostWhileWaiting,
  requestFailure,
  waitStart,
} from './request-failure.js';
import { watchedRequest } from './watched-request.js';
import { encodeJson } from './wire.js';

/** Options of {@link RemoteTransport.requestWatchingNode}. */
export interface WatchOptions {
  readonly signal?: AbortSignal | undefined;
  /** The error when the node that took the request stops answering. */
  readonly lost: (nodeId: string) => Error;
  /** The error when `signal` fires. */
  readonly aborted: () => Error;
  /** The life of the session the request is for (the `Tether-Incarnation` header), when the handle knows it. */
  readonly incarnation?: string | undefined;
  /**
   * The execution the request starts, whose reply the node that took it keeps for a while: asked for after each
   * reconnect, in case this client lost it. `unknown`: the error when that node has no record of it.
   */
  readonly recovery?: {
    readonly sessionId: string;
    readonly moduleId: string;
    readonly executionId: string;
    readonly unknown: (nodeId: string) => Error;
    /** The error when no node ever acknowledged it and no live node, `nodes`, has a record of it. */
    readonly untaken: (nodes: readonly string[]) => Error;
  };
}

/** What remote sessions and watches use to reach the nodes. */
export class RemoteTransport {
  readonly #revisions: ClientRevisions;
  /** The reply subjects of watched requests; it subscribes at the first of them. */
  readonly #inbox: ReplyInbox;
  /** This client's `updateVariable`s, one at a time per variable (see {@link SerialTasks}). */
  readonly updates = new SerialTasks();
  /**
   * The connection's state: a request whose wait saw it drop blames it, not the node, and a watched one asks its
   * node for a reply it may have lost.
   */
  readonly #link: ConnectionLink;
  /** Requests no caller awaits that a close should let finish (see {@link keep}). */
  readonly #kept = new Set<Promise<unknown>>();
  /** Whether a node has answered this client: from then on, no responders is ridden out (no-responders-ride.ts). */
  #served = false;
  /**
   * The sessions this client is deleting: how many of its deletes of each are under way, and the reports of ends
   * held until they settle (see {@link deleting}).
   */
  readonly #deleting = new Map<string, { count: number; readonly held: [error: unknown, where: string][] }>();

  /**
   * @param timeoutMs How long a request waits for its reply.
   * @param waitAsNodeSays Whether a request given no timeout of its own waits past `timeoutMs` when its node says
   *   it is still at it (see `WatchedRequestOptions.waitAsNodeSays`): the client's timeout is the default one.
   */
  constructor(
    readonly connection: NatsConnection,
    readonly subjects: TetherSubjects,
    readonly timeoutMs: number,
    readonly report: (error: unknown, where: string) => void,
    private readonly waitAsNodeSays = false,
  ) {
    this.#inbox = new ReplyInbox(connection);
    this.#link = createConnectionLink(connection, report);
    this.#revisions = new ClientRevisions(report);
  }

  /** The highest store revision any reply (or an event passed to {@link observeRevision}) has reported. */
  get revision(): number {
    return this.#revisions.revision;
  }

  /** The highest modules-bucket revision any reply (of a module request) has reported. */
  get modulesRevision(): number {
    return this.#revisions.modulesRevision;
  }

  /**
   * Raises the revision later requests carry to one this client saw outside a reply (a watch event), so that a
   * value it was shown reads back at least as new through any node.
   */
  observeRevision(revision: number): void {
    this.#revisions.observe(revision);
  }

  /**
   * Sends `body` to `subject` and resolves to the reply's result, or rejects with the typed error it carries.
   * `timeoutMs` overrides the client's request timeout for this request (module executions wait far longer);
   * `incarnation`: the life of the session the request is for (the `Tether-Incarnation` header), when the handle
   * knows it, so that the node refuses it once that life has ended rather than serve the id's next life.
   */
  async request(subject: string, body: object, timeoutMs?: number, incarnation?: string): Promise<unknown> {
    return (await this.requestWithRevision(subject, body, timeoutMs, false, incarnation)).result;
  }

  /**
   * {@link request} to a module endpoint: it also carries the highest modules-bucket revision seen, so the node
   * that answers has applied every module creation and stop this client was told of; `incarnation` as for
   * {@link request}.
   */
  async moduleRequest(subject: string, body: object, timeoutMs?: number, incarnation?: string): Promise<unknown> {
    return (await this.requestWithRevision(subject, body, timeoutMs, true, incarnation)).result;
  }

  /**
   * {@link request}, with the store revision the reply reported (at least that of every write it reflects);
   * `module`: a module endpoint's request (see {@link moduleRequest}); `incarnation`: the life of the session the
   * request is for (the `Tether-Incarnation` header), when the handle knows it.
   */
  async requestWithRevision(
    subject: string,
    body: object,
    timeoutMs?: number,
    module = false,
    incarnation?: string,
  ): Promise<{ readonly result: unknown; readonly revision: number }> {
    return this.#revisions.againIfRevisionUnknown(() =>
      rideOutNoResponders(
        timeoutMs ?? this.timeoutMs,
        () => this.#served,
        (leftMs) => this.#requestOnce(subject, body, timeoutMs, module, incarnation, leftMs),
      ),
    );
  }

  /**
   * One request, watched: a node still at it after a while says so (a late notice), and is then pinged, and waited
   * for as long as it says when the request has no timeout of its own (see `waitAsNodeSays`).
   */
  async #requestOnce(
    subject: string,
    body: object,
    ownTimeoutMs: number | undefined,
    module: boolean,
    incarnation: string | undefined,
    leftMs: number,
  ): Promise<{ readonly result: unknown; readonly revision: number }> {
    // What the errors name: the timeout, or the longer wait a late notice brought.
    let timeoutMs = ownTimeoutMs ?? this.timeoutMs;
    if (this.connection.isClosed()) throw closedBeforeSending(this.connection, this.subjects, subject);
    let outcome;
    const sent = this.#revisions.sent();
    try {
      outcome = await watchedRequest(this.connection, this.#inbox, subject, encodeJson(body), {
        headers: this.#revisions.headers(module, sent, incarnation),
        // What is left of it after sends that found no node (see no-responders-ride.ts).
        timeoutMs: Math.min(timeoutMs, leftMs),
        link: this.#link,
        waitAsNodeSays: this.waitAsNodeSays && ownTimeoutMs === undefined,
        onDeadlineMoved: (waitMs) => (timeoutMs = waitMs),
      });
    } catch (error) {
      throw this.#watchedFailure(error, subject, timeoutMs);
    }
    if (outcome.kind === 'lost') throw nodeLostWhileWaiting(this.subjects, subject, outcome.nodeId);
    if (outcome.kind === 'unanswered')
      throw droppedWhileWaiting(this.connection, this.subjects, subject, timeoutMs, outcome.down);
    if (outcome.kind === 'unsent') throw this.#unsent(subject, timeoutMs);
    // Neither a signal nor a question to the node was given: `aborted` and `unknown` cannot come.
    if (outcome.kind !== 'reply') throw new InternalError(`request to '${subject}' ended as ${outcome.kind}`);
    this.#served = true;
    const decoded = this.#revisions.decode(outcome.reply, sent);
    return { result: decoded.result, revision: decoded.revision };
  }

  /** The error of a request to `subject` that never left: the connection was down until its timeout, or closed. */
  #unsent(subject: string, timeoutMs: number): Error {
    return this.connection.isClosed()
      ? closedBeforeSending(this.connection, this.subjects, subject)
      : downUntilTimeout(this.connection, this.subjects, subject, timeoutMs);
  }

  /** What a watched request to `subject` rejected with, as a Tether error. */
  #watchedFailure(error: unknown, subject: string, timeoutMs: number): Error {
    // A TIMEOUT from a watched request means no drop since it was sent (a held request is sent after one): the link
    // as it is now says whether anything else happened.
    return requestFailure(error, this.connection, this.subjects, subject, timeoutMs, this.#link, waitStart(this.#link));
  }

  /**
   * Marks `sessionId` as being deleted by this client until the returned function is called with whether the delete
   * went through. Its end is then no news to this client: the reports of its watches and module listeners that it
   * ended (see {@link reportEnd}) are held meanwhile, and dropped once the delete went through, as an embedded
   * session's watchers stop silently; a delete that failed (another client's, or an expiry, came first; or its reply
   * was lost) has them told. The node announces the end before it answers the delete, so the mark covers it.
   */
  deleting(sessionId: string): (deleted: boolean) => void {
    const marked = this.#deleting.get(sessionId) ?? { count: 0, held: [] };
    marked.count += 1;
    this.#deleting.set(sessionId, marked);
    let settled = false;
    return (deleted) => {
      if (settled) return;
      settled = true;
      marked.count -= 1;
      if (marked.count === 0) this.#deleting.delete(sessionId);
      const held = marked.held.splice(0);
      if (!deleted) for (const [error, where] of held) this.report(error, where);
    };
  }

  /**
   * Tells `onError` that a watch or listener of `sessionId` stopped because the session ended (`error`), or holds
   * that while this client deletes the session (see {@link deleting}).
   */
  reportEnd(sessionId: string, error: unknown, where: string): void {
    const marked = this.#deleting.get(sessionId);
    if (marked) marked.held.push([error, where]);
    else this.report(error, where);
  }

  /**
   * Keeps `request`, one sent on the caller's behalf that nobody awaits (the cancel of an execution its caller
   * gave up on), until it settles, so that {@link settled} can wait for it before the connection closes.
   */
  keep(request: Promise<unknown>): void {
    this.#kept.add(request);
    const done = (): void => void this.#kept.delete(request);
    request.then(done, done);
  }

  /** Resolves once every kept request has settled, or after `ms`: `true` when they all did. */
  async settled(ms: number): Promise<boolean> {
    if (this.#kept.size === 0) return true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
    try {
      return await Promise.race([Promise.allSettled([...this.#kept]).then(() => true as const), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Resolves once the server has every subscription this client made so far: at once (a flush), or, while the
   * connection is down, once it is back and nats.js has subscribed again, within this client's timeout, as a request
   * made then is sent once it is back. `what` names what waits, for the error.
   * @throws {NatsConnectionError} (`disconnected`) naming `what` when the connection is still down at the timeout
   * @throws {CallTimeoutError} naming `what` when the server, reached, does not answer the flush by the timeout
   */
  async subscribed(what: string): Promise<void> {
    const deadline = performance.now() + this.timeoutMs;
    for (;;) {
      const left = deadline - performance.now();
      // Past the deadline whatever the link says: its status may lag a flush that nats.js keeps failing.
      if (left <= 0 || !(await connectionBack(this.#link, left)))
        throw new NatsConnectionError(
          'disconnected',
          this.connection.getServer(),
          `${what} not started: this client's NATS connection was down from the call until its timeout (${this.timeoutMs} ms)`,
          { details: { timeoutMs: this.timeoutMs } },
        );
      try {
        // A frozen server (or a half-open connection) never answers a flush while nothing tells of an outage.
        return await flushWithin(this.connection, left, what, this.timeoutMs);
      } catch (error) {
        // nats.js fails a flush under way at each dial while the connection is down: the next round waits for it. Its
        // status may reach the link just after: a short pause keeps that round from spinning.
        if (!(error instanceof NatsError && error.code === ErrorCode.Disconnect)) throw error;
        if (!this.#link.down) await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
  }

  /**
   * Calls `listener` when the connection drops (`disconnected`) and when it is back (`reconnected`, once nats.js
   * has subscribed again: what is published from then on reaches the subscriptions). Returns its remover.
   */
  onConnectionChange(listener: (change: ConnectionChange) => void): () => void {
    return this.#link.onChange(listener);
  }

  /**
   * Calls `listener` when this client took the revision of a variables bucket that was re-created or reset (a
   * `revision_unknown` reply): the revisions it knew belong to the old bucket, and the new one's start again from
   * 1, so what a watch compares them with is void. Returns its remover.
   */
  onVariablesReset(listener: () => void): () => void {
    return this.#revisions.onVariablesReset(listener);
  }

  /**
   * {@link moduleRequest} for a long request (a module execution): the node that takes it announces itself, and this
   * client pings that node while it waits (see watched-request.ts). Rejects with `lost(nodeId)` when the node
   * stops answering, and with `aborted()` at once when `signal` fires; the caller tells the node. Pings missed while
   * this client's own connection is down do not count. A reply the node sent while it was down is lost: with
   * `recovery`, each time the connection is back the node is asked for it (see lost-reply-recovery.ts), and a node
   * with no record of it rejects the request with `recovery.unknown(nodeId)`. A wait that saw the connection drop
   * and got no reply by its deadline rejects with `NatsConnectionError` (`disconnected`). `incarnation` as for
   * {@link request}.
   */
  async requestWatchingNode(subject: string, body: object, timeoutMs: number, options: WatchOptions): Promise<unknown> {
    return this.#revisions.againIfRevisionUnknown(() =>
      rideOutNoResponders(
        timeoutMs,
        () => this.#served,
        (leftMs) => this.#requestWatchingNodeOnce(subject, body, timeoutMs, leftMs, options),
        // An abort between two sends rejects at once, as one during a send does.
        options,
      ),
    );
  }

  async #requestWatchingNodeOnce(
    subject: string,
    body: object,
    timeoutMs: number,
    leftMs: number,
    options: WatchOptions,
  ): Promise<unknown> {
    if (this.connection.isClosed()) throw closedBeforeSending(this.connection, this.subjects, subject);
    let outcome;
    const sent = this.#revisions.sent();
    const { recovery } = options;
    try {
      outcome = await watchedRequest(this.connection, this.#inbox, subject, encodeJson(body), {
        headers: this.#revisions.headers(true, sent, options.incarnation),
        timeoutMs: Math.min(timeoutMs, leftMs),
        signal: options.signal,
        link: this.#link,
        askOutcome:
          recovery &&
          ((nodeId) =>
            askExecutionOutcome(
              this.connection,
              this.subjects.executionOutcome(nodeId ?? ALL_NODES, recovery.sessionId, recovery.moduleId),
              recovery.executionId,
            )),
        census: recovery && ((deadline) => takeCensus(this.connection, this.subjects, recovery, deadline)),
      });
    } catch (error) {
      throw this.#watchedFailure(error, subject, timeoutMs);
    }
    if (outcome.kind === 'lost') throw options.lost(outcome.nodeId);
    if (outcome.kind === 'aborted') throw options.aborted();
    // Only asked with `recovery`.
    if (outcome.kind === 'unknown') throw recovery!.unknown(outcome.nodeId);
    if (outcome.kind === 'untaken') throw recovery!.untaken(outcome.nodes);
    if (outcome.kind === 'unanswered')
      throw droppedWhileWaiting(this.connection, this.subjects, subject, timeoutMs, outcome.down);
    if (outcome.kind === 'unsent') throw this.#unsent(subject, timeoutMs);
    this.#served = true;
    // A reply kept by the node and sent again is read as the one it replaces: revisions, result or typed error.
    return this.#revisions.decode(outcome.reply, sent).result;
  }
}

/** The connection's flush, or `CallTimeoutError` naming `what` once `ms` pass without the server's answer. */
async function flushWithin(connection: NatsConnection, ms: number, what: string, timeoutMs: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CallTimeoutError(what, timeoutMs)), Math.ceil(ms));
  });
  try {
    await Promise.race([connection.flush(), late]);
  } finally {
    clearTimeout(timer);
  }
}
