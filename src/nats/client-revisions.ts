/**
 * What a remote client knows of the buckets' revisions: the highest store revision seen, and the modules bucket's.
 * Every request carries the store's in the `Tether-Min-Revision` header and every reply (errors included) raises
 * it, which gives read-your-writes across nodes: whichever node answers next has first applied everything this
 * client has seen. Module requests do the same for the modules bucket with `Tether-Min-Modules-Revision`, so a
 * module this client saw stopped or created again is not served from its old spec by a node that has not heard yet.
 * When a bucket was re-created or reset under a long-lived client, its revision is one the bucket no longer
 * reaches: the node says so (`revision_unknown`, naming the header, with the bucket's revision), and the client
 * takes that revision for that bucket instead and sends the request again, once per header.
 * @module
 */
import { headers, type Msg, type MsgHdrs } from 'nats';
import { RevisionUnknownError } from '../errors.js';
import {
  ERROR_CODE_HEADER,
  ERROR_HEADER,
  INCARNATION_HEADER,
  MIN_MODULES_REVISION_HEADER,
  MIN_REVISION_HEADER,
  decodeReply,
} from './wire.js';

/** The revisions one request carried, to tell whether a refusal of them still concerns this client's. */
export interface Sent {
  readonly revision: number;
  readonly modulesRevision: number;
}

/** One client's revisions of the variables and modules buckets. */
export class ClientRevisions {
  #revision = 0;
  /** The highest modules-bucket revision a reply has reported: module requests carry it. */
  #modulesRevision = 0;
  /** Told when this client took a new variables bucket's revision (see {@link onVariablesReset}). */
  readonly #resetListeners = new Set<() => void>();
  readonly #report: (error: unknown, where: string) => void;

  constructor(report: (error: unknown, where: string) => void) {
    this.#report = report;
  }

  /** The highest store revision any reply (or an event passed to {@link observe}) has reported. */
  get revision(): number {
    return this.#revision;
  }

  /** The highest modules-bucket revision any reply (of a module request) has reported. */
  get modulesRevision(): number {
    return this.#modulesRevision;
  }

  /** Raises the store revision to one seen outside a reply (a watch event). */
  observe(revision: number): void {
    // Never one no node would take in a header (a fraction, past the safe integers): every request would carry it.
    if (Number.isSafeInteger(revision) && revision > this.#revision) this.#revision = revision;
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
   * Runs `send` again when a node answered `revision_unknown` (by then {@link decode} has taken the bucket's
   * revision): the node refused before doing anything, so the request is safe to send again. Once per header: a
   * module request after a reset of both buckets is refused for each in turn. A second refusal of the same header
   * goes to the caller.
   */
  async againIfRevisionUnknown<T>(send: () => Promise<T>): Promise<T> {
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

  /** The revisions a request sent now carries. */
  sent(): Sent {
    return { revision: this.#revision, modulesRevision: this.#modulesRevision };
  }

  /** The headers of a request carrying `sent`; `module`: with the modules revision; `incarnation`: the session's life. */
  headers(module: boolean, sent: Sent, incarnation?: string): MsgHdrs {
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
  decode(reply: Msg, sent: Sent): { readonly result: unknown; readonly revision: number } {
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
        this.#report(error, 'variables reset listener');
      }
    }
  }
}
