/**
 * What became of a compare-and-set write whose publish got no answer (its stream's leader died with it in flight,
 * or the connection dropped) and whose next attempt was refused: was the first attempt stored after all, or did
 * another writer get there first?
 *
 * Publishing such a write again, exactly as it was, cannot apply it twice: it expects the same revision, so once
 * the first copy is stored the key has left that revision and the server refuses the second (a bucket of one
 * replica checks in order; a replicated one also sees the same message id `<key>@<revision>` and answers
 * `duplicate`, and its duplicate check runs again as each message is applied, so a copy the new leader inherited
 * from the old one unapplied still stops the second). What a refusal cannot say is whose write took the key off
 * that revision. Each compare-and-set write carries an id of its own (`Tether-Write`), and the stream keeps a
 * message's headers, `Nats-Expected-Last-Subject-Sequence` included. The key's first message after the expected
 * revision is the write that took the key off it: this write's id there means it was stored, at that revision;
 * another message that expected the same revision (or none) means another writer won, a conflict. A first kept
 * message that expected a later revision means the one that took the key off it is no longer kept (the key was
 * written past the bucket's history meanwhile): the outcome cannot be told.
 * @module
 */
import { randomBytes } from 'node:crypto';
import type { JetStreamManager, MsgRequest } from 'nats';
import { isNoMessageFound } from './jetstream-api-error.js';

/** The header that carries a write's own id. */
export const WRITE_ID_HEADER = 'Tether-Write';

// A random prefix per process (72 bits) and a counter: unique ids, short on the wire, no UUID per write.
const writer = randomBytes(9).toString('base64url');
let issued = 0;

/** A new write id, never issued before by any process (with overwhelming probability). */
export function newWriteId(): string {
  issued += 1;
  return `${writer}.${issued}`;
}

/** What became of the write: stored at `revision`, beaten by another write, or unknown. */
export type WriteFate =
  | { readonly kind: 'ours'; readonly revision: number }
  | { readonly kind: 'theirs'; readonly revision: number }
  | { readonly kind: 'unknown' };

/**
 * Reads the first message of `subject` in `stream` after revision `expected` and tells whether it is the write
 * with id `id`. Rejects with the library's error when the read fails (the caller retries or wraps it).
 */
export async function writeFate(
  jsm: JetStreamManager,
  stream: string,
  subject: string,
  expected: number,
  id: string,
): Promise<WriteFate> {
  // Typed by nats.js for direct gets only; the stream's message GET takes it too (see kv-history.ts).
  const request = { seq: expected + 1, next_by_subj: subject } as unknown as MsgRequest;
  let message;
  try {
    message = await jsm.streams.getMessage(stream, request);
  } catch (error) {
    // Refused, yet nothing after the expected revision: the key was purged meanwhile.
    if (isNoMessageFound(error)) return { kind: 'unknown' };
    throw error;
  }
  if (message.header.get(WRITE_ID_HEADER) === id) return { kind: 'ours', revision: message.seq };
  const expectedThere = message.header.get('Nats-Expected-Last-Subject-Sequence');
  if (expectedThere === '' || Number(expectedThere) === expected) return { kind: 'theirs', revision: message.seq };
  return { kind: 'unknown' };
}
