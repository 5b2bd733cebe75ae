/**
 * How a KV commit's messages say which commit they belong to, so that a node's router can hand a commit's writes
 * over together and leave out those that were undone (commit-holdback.ts).
 *
 * A commit of several writes is several messages (kv-commit.ts). Each put of such a commit carries a mark as the
 * first field of its JSON record, `{"~tc":"w:<commit id>:<writes>", …}`, and each put of its undo (the previous
 * record put back) `{"~tc":"u:<commit id>", …}`. The mark is in the bytes, not in a header, because a routed put's
 * headers are never parsed (that cost about a tenth of a routed update, see kv-change-watch.ts): telling a marked
 * record from any other is one byte compare, and a single write, which is never marked, costs nothing more. A
 * delete marker has no bytes; its headers are read anyway (who deleted), so a commit's delete names its commit in
 * `Tether-Commit` and `Tether-Commit-Size`, and an undo's delete marker in `Tether-Commit-Undo`.
 *
 * Marks are stripped before a record is decoded: `get`, `list`, `history` and watches never show them. A reader of
 * the bucket that is not Tether sees one more field, `~tc`, on a record a batch wrote.
 * @module
 */
import type { MsgHdrs } from 'nats';
import type { CommitMark } from '../store/store.js';

/** Header of every message of a commit of several writes: the commit's id. */
export const COMMIT_HEADER = 'Tether-Commit';
/** Header of every message of a commit of several writes: how many writes the commit has. */
export const COMMIT_SIZE_HEADER = 'Tether-Commit-Size';
/** Header of every message of a commit's undo: the id of the commit undone. */
export const COMMIT_UNDO_HEADER = 'Tether-Commit-Undo';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** `{"~tc":"` */
const PREFIX = encoder.encode('{"~tc":"');
const TILDE = 0x7e;
const QUOTE = 0x22;
const OPEN = 0x7b;
const CLOSE = 0x7d;

/**
 * Whether `data` starts with a mark. Every routed put pays the first compare only: no record starts its first
 * field name with `~` but a marked one (a variable record's first field is `id`).
 */
export function isMarked(data: Uint8Array): boolean {
  if (data[2] !== TILDE) return false;
  for (let i = 0; i < PREFIX.length; i += 1) if (data[i] !== PREFIX[i]) return false;
  return true;
}

/** Whether a mark can go in front of `data`: a compact JSON object (`{"…` or `{}`), as the codecs write them. */
export function canMark(data: Uint8Array): boolean {
  return data[0] === OPEN && (data[1] === QUOTE || (data.length === 2 && data[1] === CLOSE));
}

/** `data` with `mark` in front; unchanged when it cannot hold one (see {@link canMark}). */
function withMark(data: Uint8Array, mark: string): Uint8Array {
  if (!canMark(data)) return data;
  const bare = isMarked(data) ? withoutMark(data) : data;
  const head = encoder.encode(`{"~tc":"${mark}"${bare.length > 2 ? ',' : ''}`);
  const out = new Uint8Array(head.length + bare.length - 1);
  out.set(head, 0);
  out.set(bare.subarray(1), head.length);
  return out;
}

/** A put of commit `id`, which has `size` writes. */
export function markWrite(data: Uint8Array, id: string, size: number): Uint8Array {
  return withMark(data, `w:${id}:${size}`);
}

/** The previous record put back by the undo of commit `id` (any mark it had replaced). */
export function markUndo(data: Uint8Array, id: string): Uint8Array {
  return withMark(data, `u:${id}`);
}

/** Index of the quote closing the mark's string. */
function markEnd(data: Uint8Array): number {
  return data.indexOf(QUOTE, PREFIX.length);
}

/** `data` without its mark (the same array when it has none). */
export function withoutMark(data: Uint8Array): Uint8Array {
  if (!isMarked(data)) return data;
  const end = markEnd(data);
  if (end < 0) return data;
  // Past the closing quote: a comma and the record's other fields, or the closing brace of an empty object.
  const rest = data[end + 1] === 0x2c ? end + 2 : end + 1;
  const out = new Uint8Array(data.length - rest + 1);
  out[0] = OPEN;
  out.set(data.subarray(rest), 1);
  return out;
}

/** The mark of a marked record (see {@link isMarked}); `undefined` for one this module did not write. */
export function markOf(data: Uint8Array): CommitMark | undefined {
  const end = markEnd(data);
  if (end < 0) return undefined;
  const text = decoder.decode(data.subarray(PREFIX.length, end));
  return parseMark(text.split(':'));
}

function parseMark(parts: readonly string[]): CommitMark | undefined {
  const [kind, id, size] = parts;
  if (!id) return undefined;
  if (kind === 'u') return { undoes: id };
  const writes = Number(size);
  return kind === 'w' && Number.isSafeInteger(writes) && writes > 1 ? { id, size: writes } : undefined;
}

/** The mark a delete marker's headers carry. */
export function markerMark(headers: MsgHdrs | undefined): CommitMark | undefined {
  if (!headers) return undefined;
  const undoes = headers.get(COMMIT_UNDO_HEADER);
  if (undoes) return { undoes };
  const id = headers.get(COMMIT_HEADER);
  return id ? parseMark(['w', id, headers.get(COMMIT_SIZE_HEADER)]) : undefined;
}
