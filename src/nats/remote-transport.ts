/**
 * The request side of the remote client: one NATS connection, the subjects, the highest store revision seen,
 * and the mapping of NATS failures to Tether errors. Every request carries that revision in the
 * `Tether-Min-Revision` header and every reply (errors included) raises it, which gives read-your-writes across
 * nodes: whichever node answers next has first applied everything this client has seen. Module requests do the
 * same for the modules bucket with `Tether-Min-Modules-Revision`, so a module this client saw stopped or created
 * again is not served from its old spec by a node that has not heard yet. When a bucket was re-created or reset
 * under a long-lived client, its revision is one the bucket no longer reaches: the node says so (`revision_unknown`,
 * naming the header, with the bucket's revision), and the client takes that revision for that bucket instead and
 * sends the request again, once per header.
 * @module
 */
import { headers, type Msg, type MsgHdrs, type NatsConnection, type NatsError } from 'nats';
import {
  CallTimeoutError,
  InternalError,
  NatsConnectionError,
  NoProcError,
  RevisionUnknownError,
  ValidationError,
} from '../errors.js';
import { SerialTasks } from '../session/serial-tasks.js';
import { onConnectionChange, type ConnectionChange } from './connection-options.js';
import type { TetherSubjects } from './subjects.js';
import { ReplyInbox } from './reply-inbox.js';
import { watchedRequest } from './watched-request.js';
import {
  ERROR_CODE_HEADER,
  ERROR_HEADER,
  MIN_MODULES_REVISION_HEADER,
  MIN_REVISION_HEADER,
  INCARNATION_HEADER,
  decodeReply,
  encodeJson,
} from './wire.js';

/** The revisions one request carried, to tell whether a refusal of them still concerns this client's. */
interface Sent {
  readonly revision: number;
  readonly modulesRevision: number;
}

/** What remote sessions and watches use to reach the nodes. */
export class RemoteTransport {
  #revision = 0;
  /** The highest modules-bucket revision a reply has reported: module requests carry it. */
  #modulesRevision = 0;
  /** The reply subjects of watched requests; it subscribes at the first of them. */
  readonly #inbox: ReplyInbox;
  /** This client's `updateVariable`s, one at a time per variable (see {@link SerialTasks}). */
  readonly updates = new SerialTasks();
  /** Told when the connection drops and when it is back. */
  readonly #connectionListeners = new Set<(change: ConnectionChange) => void>();
  /** The connection's state, for watched requests: pings missed while it is down do not count against a node. */
  readonly #link = { down: false, drops: 0 };
  /** Told when this client took a new variables bucket's revision (see {@link onVariablesReset}). */
  readonly #resetListeners = new Set<() => void>();
  /** Requests no caller awaits that a close should let finish (see {@link keep}). */
  readonly #kept = new Set<Promise<unknown>>();

  constructor(
    readonly connection: NatsConnection,
    readonly subjects: TetherSubjects,
    readonly timeoutMs: number,
    readonly report: (error: unknown, where: string) => void,
  ) {
    this.#inbox = new ReplyInbox(connection);
    onConnectionChange(connection, (change) => {
      if (change === 'disconnected') {
        this.#link.down = true;
        this.#link.drops += 1;
      } else this.#link.down = false;
      for (const each of [...this.#connectionListeners]) {
        try {
          each(change);
        } catch (error) {
          this.report(error, `connection ${change} listener`);
        }
      }
    });
  }

  /** The highest store revision any reply (or an event passed to {@link observeRevision}) has reported. */
  get revision(): number {
    return this.#revision;
  }

  /** The highest modules-bucket revision any reply (of a module request) has reported. */
  get modulesRevision(): number {
    return this.#modulesRevision;
  }

  /**
   * Raises the revision later requests carry to one this client saw outside a reply (a watch event), so that a
   * value it was shown reads back at least as new through any node.
   */
  observeRevision(revision: number): void {
    if (revision > this.#revision) this.#revision = revision;
  }

  /**
   * Sends `body` to `subject` and resolves to the reply's result, or rejects with the typed error it carries.
   * `timeoutMs` overrides the client's request timeout for this request (module executions wait far longer);
   * `incarnation`: the life of the session the request is for (the `Tether-Incarnation` header), when the handle
   * knows it, so that the node refuses it once that life has ended rather than serve the id's next life.
   */
  async request(
    subject: string,
    body: object,
    timeoutMs: number = this.timeoutMs,
    incarnation?: string,
  ): Promise<unknown> {
    return (await this.requestWithRevision(subject, body, timeoutMs, false, incarnation)).result;
  }

  /**
   * {@link request} to a module endpoint: it also carries the highest modules-bucket revision seen, so the node
   * that answers has applied every module creation and stop this client was told of; `incarnation` as for
   * {@link request}.
   */
  async moduleRequest(
    subject: string,
    body: object,
    timeoutMs: number = this.timeoutMs,
    incarnation?: string,
  ): Promise<unknown> {
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
    timeoutMs: number = this.timeoutMs,
    module = false,
    incarnation?: string,
  ): Promise<{ readonly result: unknown; readonly revision: number }> {
    return this.#againIfRevisionUnknown(() => this.#requestOnce(subject, body, timeoutMs, module, incarnation));
  }

  async #requestOnce(
    subject: string,
    body: object,
    timeoutMs: number,
    module: boolean,
    incarnation: string | undefined,
  ): Promise<{ readonly result: unknown; readonly revision: number }> {
    let reply;
    const sent = this.#sent();
    try {
      reply = await this.connection.request(subject, encodeJson(body), {
        timeout: timeoutMs,
        headers: this.#headers(module, sent, incarnation),
      });
    } catch (error) {
      throw this.#mapNatsError(error, subject, timeoutMs);
    }
    const decoded = this.#decode(reply, sent);
    return { result: decoded.result, revision: decoded.revision };
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
   * Calls `listener` when the connection drops (`disconnected`) and when it is back (`reconnected`, once nats.js
   * has subscribed again: what is published from then on reaches the subscriptions). Returns its remover.
   */
  onConnectionChange(listener: (change: ConnectionChange) => void): () => void {
    this.#connectionListeners.add(listener);
    return () => this.#connectionListeners.delete(listener);
  }

  /**
   * Calls `listener` when this client took the revision of a variables bucket that was re-created or reset (a
   * `revision_unknown` reply): the revisions it knew belong to the old bucket, and the new one's start again from
   * 1, so what a watch compares them with is void. Returns its remover.
   */
  onVariablesReset(listener: () => void): () => void {
    this.#resetListeners.add(listener);
    return () => this.#resetListeners.delete(listener);
  }

  /**
   * {@link moduleRequest} for a long request (a module execution): the node that takes it announces itself, and this
   * client pings that node while it waits (see watched-request.ts). Rejects with `lost(nodeId)` when the node
   * stops answering, and with `aborted()` at once when `signal` fires; the caller tells the node. Pings missed while
   * this client's own connection is down do not count: a wait that saw it drop and got no reply by its deadline
   * rejects with `NatsConnectionError` (`disconnected`), since a reply sent meanwhile is lost. `incarnation` as for
   * {@link request}.
   */
  async requestWatchingNode(
    subject: string,
    body: object,
    timeoutMs: number,
    options: {
      readonly signal?: AbortSignal | undefined;
      readonly lost: (nodeId: string) => Error;
      readonly aborted: () => Error;
      readonly incarnation?: string | undefined;
    },
  ): Promise<unknown> {
    return this.#againIfRevisionUnknown(() => this.#requestWatchingNodeOnce(subject, body, timeoutMs, options));
  }

  async #requestWatchingNodeOnce(
    subject: string,
    body: object,
    timeoutMs: number,
    options: Parameters<RemoteTransport['requestWatchingNode']>[3],
  ): Promise<unknown> {
    let outcome;
    const sent = this.#sent();
    try {
      outcome = await watchedRequest(this.connection, this.#inbox, subject, encodeJson(body), {
        headers: this.#headers(true, sent, options.incarnation),
        timeoutMs,
        signal: options.signal,
        link: this.#link,
      });
    } catch (error) {
      throw this.#mapNatsError(error, subject, timeoutMs);
    }
    if (outcome.kind === 'lost') throw options.lost(outcome.nodeId);
    if (outcome.kind === 'aborted') throw options.aborted();
    if (outcome.kind === 'unanswered') {
      const why = outcome.down
        ? "this client's NATS connection dropped while it waited and is still down"
        : "this client's NATS connection dropped while it waited, and a reply sent before it was back is lost";
      throw new NatsConnectionError(
        'disconnected',
        this.connection.getServer(),
        `request to '${subject}' got no reply within ${timeoutMs} ms: ${why}; whether it ran is unknown`,
      );
    }
    return this.#decode(outcome.reply, sent).result;
  }

  /**
   * Runs `send` again when a node answered `revision_unknown` (by then {@link #decode} has taken the bucket's
   * revision): the node refused before doing anything, so the request is safe to send again. Once per header: a
   * module request after a reset of both buckets is refused for each in turn. A second refusal of the same header
   * goes to the caller.
   */
  async #againIfRevisionUnknown<T>(send: () => Promise<T>): Promise<T> {
    const refused = new Set<string>();
    for (;;) {
      try {
        return await send();
      } catch (error) {
        if (!(error instanceof RevisionUnknownError) || refused.has(error.header)) throw error;
        refused.add(error.header);
      }
    }
  }

  #sent(): Sent {
    return { revision: this.#revision, modulesRevision: this.#modulesRevision };
  }

  #headers(module: boolean, sent: Sent, incarnation?: string): MsgHdrs {
    const h = headers();
    if (sent.revision > 0) h.set(MIN_REVISION_HEADER, String(sent.revision));
    if (incarnation !== undefined) h.set(INCARNATION_HEADER, incarnation);
    if (module && sent.modulesRevision > 0) h.set(MIN_MODULES_REVISION_HEADER, String(sent.modulesRevision));
    return h;
  }

  /**
   * The reply's result and revision; or its typed error, thrown. Either way its revisions raise this client's. A
   * `revision_unknown` lowers the refused header's revision to the bucket's, but only while this client's is still
   * the one the request sent: a reply that came meanwhile (another request's, in the new bucket) raised it past what
   * the node refused, and lowering it then would lose a write this client has already seen.
   */
  #decode(reply: Msg, sent: Sent): { readonly result: unknown; readonly revision: number } {
    const decoded = decodeReply(
      reply.data,
      reply.headers?.get(ERROR_HEADER) || undefined,
      reply.headers?.get(ERROR_CODE_HEADER) || undefined,
    );
    if (!decoded.ok && decoded.error instanceof RevisionUnknownError) {
      // The bucket was re-created or reset: the revision kept so far belongs to the old one, and raising it only
      // would leave every later request asking for it. Start again from where the new bucket is.
      const { header, currentRevision } = decoded.error;
      if (Number.isSafeInteger(currentRevision) && currentRevision >= 0) {
        if (header === MIN_MODULES_REVISION_HEADER) {
          if (this.#modulesRevision === sent.modulesRevision) this.#modulesRevision = currentRevision;
        } else if (header === MIN_REVISION_HEADER && this.#revision === sent.revision) {
          this.#revision = currentRevision;
          this.#variablesReset();
        }
      }
      throw decoded.error;
    }
    this.#revision = Math.max(this.#revision, decoded.revision);
    if (decoded.modulesRevision !== undefined)
      this.#modulesRevision = Math.max(this.#modulesRevision, decoded.modulesRevision);
    if (!decoded.ok) throw decoded.error;
    return decoded;
  }

  #variablesReset(): void {
    for (const listener of [...this.#resetListeners]) {
      try {
        listener();
      } catch (error) {
        this.report(error, 'variables reset listener');
      }
    }
  }

  #mapNatsError(error: unknown, subject: string, timeoutMs: number): Error {
    const code = (error as Partial<NatsError> | undefined)?.code;
    // No node subscribes: nobody could take the request, so report it at once as a dead target.
    if (code === '503') return new NoProcError(subject, { cause: error });
    // Closed under the request (`client.close()`, or NATS given up on): nats.js rejects it as a TIMEOUT, or
    // CONNECTION_CLOSED, but nothing timed out and the request's fate is unknown.
    if (this.connection.isClosed() || code === 'CONNECTION_CLOSED')
      return new NatsConnectionError('closed', this.connection.getServer(), `request to '${subject}' got no reply`, {
        cause: error,
      });
    if (code === 'TIMEOUT') return new CallTimeoutError(subject, timeoutMs, { cause: error });
    if (code === 'MAX_PAYLOAD_EXCEEDED') {
      return new ValidationError(`request to '${subject}' exceeds the server's max_payload`, {
        cause: error,
        details: { constraint: 'maxPayload' },
      });
    }
    const message = error instanceof Error ? error.message : String(error);
    return new InternalError(`request to '${subject}' failed: ${message}`, {
      cause: error,
      details: { subject, natsCode: code ?? null },
    });
  }
}
