/**
 * The record the session directory keeps per session (session-directory.ts): when the session was opened, which
 * life of its id it is (`incarnation`: deleted and opened again, an id is another session), and when a node last
 * used it (`activeAt`, which session expiry reads and stamps). Records written before a field existed lack it;
 * the readers here say what stands in for it.
 * @module
 */

/** The record kept per session. */
export interface SessionRecord {
  readonly sessionId: string;
  readonly createdAt: string;
  /** This life of the session id (a random id); records written before it existed go by `createdAt`. */
  readonly incarnation?: string;
  /** When a node last used the session (ISO time), at most a quarter of the session TTL late. */
  readonly activeAt?: string;
}

/** A record as read, with the bucket revision of its write. */
export interface ReadRecord {
  readonly record: SessionRecord;
  readonly revision: number;
}

/** The life of the session a record stands for. */
export const incarnationOf = (record: SessionRecord): string => record.incarnation ?? record.createdAt;

/** When the session was last used, as the record says (its creation for a record never stamped); ms since epoch. */
export const activeAtOf = (record: SessionRecord): number => Date.parse(record.activeAt ?? record.createdAt);
