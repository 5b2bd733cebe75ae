/**
 * The record the session directory keeps per session (session-directory.ts): when the session was opened, which
 * life of its id it is (`incarnation`: deleted and opened again, an id is another session), and when a node last
 * used it (`activeAt`, which session expiry reads and stamps). Records written before a field existed lack it;
 * the readers here say what stands in for it.
 *
 * Only nodes write the bucket, but anything with access to it can: a value that is no record
 * ({@link decodeSessionRecord}) stands for no session, wherever it is read (see session-directory.ts).
 * @module
 */
import { readJsonObject } from './json-object-body.js';

/** The record kept per session. */
export interface SessionRecord {
  readonly sessionId: string;
  readonly createdAt: string;
  /** This life of the session id (a random id); records written before it existed go by `createdAt`. */
  readonly incarnation?: string;
  /**
   * When a node last used the session (ISO time, on the server's clock as that node estimated it; see
   * {@link lastUseOf}), at most a quarter of the session TTL late.
   */
  readonly activeAt?: string;
}

/** A record as read, with the bucket revision of its write. */
export interface ReadRecord {
  readonly record: SessionRecord;
  readonly revision: number;
  /**
   * When the server stored this write (ms since epoch, on the server's clock); absent for a stamp this node wrote
   * and did not read back (see {@link lastUseOf}).
   */
  readonly writtenAt?: number;
}

/** The life of the session a record stands for. */
export const incarnationOf = (record: SessionRecord): string => record.incarnation ?? record.createdAt;

/** When the session was last used, as the record says (its creation for a record never stamped); ms since epoch. */
export const activeAtOf = (record: SessionRecord): number => Date.parse(record.activeAt ?? record.createdAt);

/**
 * When the session was last used, on the server's clock: its `activeAt`, held within what the server's time of the
 * write allows. A stamp is written after the use it notes, within `lagMs` (the stamping period) unless the connection
 * was down, so its use lies in `[writtenAt - lagMs, writtenAt]`: an `activeAt` outside, from a writer whose clock was
 * off (a node of a version that stamped its wall clock, or one whose estimate of the server's clock lagged), is
 * brought in (after an outage, to a later use than it was: the session is kept longer, never expired early). Every node
 * judges a record the same way, whatever its own clock says. Without `writtenAt` (a stamp this node just wrote), the
 * `activeAt` it wrote, no later than its use.
 */
export function lastUseOf(found: ReadRecord, lagMs: number): number {
  const activeAt = activeAtOf(found.record);
  const { writtenAt } = found;
  if (writtenAt === undefined || Number.isNaN(activeAt)) return activeAt;
  return Math.min(writtenAt, Math.max(writtenAt - lagMs, activeAt));
}

/** A value of the sessions bucket as read: its record, or why it is none. */
export type DecodedSessionRecord = { readonly record: SessionRecord } | { readonly problem: string };

/**
 * The record a value of the sessions bucket holds under the key `sessionId`, or why it holds none: not JSON, not an
 * object, or without the creation time every record has had (its times are read as times, see {@link activeAtOf}).
 * The key names the session, whatever the value says.
 */
export function decodeSessionRecord(data: Uint8Array, sessionId: string): DecodedSessionRecord {
  const read = readJsonObject(data);
  if ('problem' in read) return read;
  const fields = read.object;
  if (!isTime(fields.createdAt)) return { problem: "no 'createdAt' time" };
  if (fields.activeAt !== undefined && !isTime(fields.activeAt)) return { problem: "an 'activeAt' that is no time" };
  if (fields.incarnation !== undefined && typeof fields.incarnation !== 'string')
    return { problem: "an 'incarnation' that is no string" };
  return { record: { ...(fields as unknown as SessionRecord), sessionId } };
}

const isTime = (value: unknown): value is string => typeof value === 'string' && !Number.isNaN(Date.parse(value));
