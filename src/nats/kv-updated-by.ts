/**
 * Who deleted a key, on a KV delete marker: the `Tether-Updated-By` header. A marker has no value to hold it, and
 * every node learns of a delete only from the marker (its bucket watch), so the header is what lets the other
 * nodes' sessions, and history, name who deleted.
 *
 * `updatedBy` is any string, and a NATS header value cannot carry CR or LF (nats.js refuses them), loses leading
 * and trailing blanks (trimmed on both sides) and is not reliably more than ASCII. So the header holds the value as
 * a JSON string literal whose every character outside printable ASCII is a `\uXXXX` escape: `"Zo\u00eb\nbot"`.
 * `JSON.parse` gives the exact string back, lone surrogates included, in any language.
 *
 * The header's value has a size limit, {@link MAX_UPDATED_BY_HEADER_BYTES}: JetStream refuses a message whose
 * headers take more than 65,535 bytes, and the marker carries others besides. On a NATS node it is lower still when
 * the node's record limit (record-codec.ts) is: the delete's change event carries `updatedBy` and the old value in
 * one message, which must fit in the server's `max_payload` as a write's old and new record do. The header's value
 * is at least as long as the event's JSON of `updatedBy` (an escape where the event has UTF-8), so a header within
 * the limit keeps the event within it. A bigger one is refused before anything is written ({@link markerHeaders}):
 * written, the marker would be refused by the server, or its event might not be publishable.
 *
 * nats.js 2.29 gives a bucket entry's headers no public getter: {@link entryHeaders} reads them from the message the
 * entry wraps, and the KV store tests (a delete's `updatedBy` seen by a watch and by `lastChange`) hold it to that.
 * @module
 */
import type { KvEntry, MsgHdrs } from 'nats';
import { ValidationError } from '../errors.js';
import { sessionOfKey } from '../store/changes-by-session.js';
import { asciiEscaped } from '../printable.js';

/** The header of a delete marker that names who deleted. */
export const UPDATED_BY_HEADER = 'Tether-Updated-By';

/**
 * The most bytes the `Tether-Updated-By` value of a delete marker may take, on any server. JetStream (2.9 and
 * later) refuses a message whose encoded headers take more than 65,535 bytes, and a marker carries others besides:
 * `KV-Operation`, `Tether-Write`, `Nats-Expected-Last-Subject-Sequence`, `Nats-Msg-Id` (the key and a revision, on a
 * replicated bucket), a commit's `Tether-Commit` and `Tether-Commit-Size` or an undo's `Tether-Commit-Undo`, and
 * this header's own name. Those take at most about 550 bytes for a variable's key (`<session>.<name>`, up to 257
 * characters); the 5,535 left also cover any key a subject can hold on a server's default `max_control_line`.
 */
export const MAX_UPDATED_BY_HEADER_BYTES = 60_000;

/** `updatedBy` as the header's value: see the module comment. */
export function encodeUpdatedBy(updatedBy: string): string {
  return asciiEscaped(JSON.stringify(updatedBy));
}

/** The header for a delete's `updatedBy`; none without one. Unchecked: for a marker put back as it was. */
export function updatedByHeaders(updatedBy: string | undefined): Readonly<Record<string, string>> {
  return updatedBy === undefined ? {} : { [UPDATED_BY_HEADER]: encodeUpdatedBy(updatedBy) };
}

/**
 * The header of a new delete marker of `key`: {@link updatedByHeaders}, refused with a `ValidationError` when its
 * value takes more than `maxBytes` (a node's record limit) or {@link MAX_UPDATED_BY_HEADER_BYTES}, whichever is
 * smaller (see the module comment). The value is ASCII, so its length is its size.
 */
export function markerHeaders(
  key: string,
  updatedBy: string | undefined,
  maxBytes: number | undefined,
): Readonly<Record<string, string>> {
  if (updatedBy === undefined) return {};
  const value = encodeUpdatedBy(updatedBy);
  const byRecord = maxBytes !== undefined && maxBytes < MAX_UPDATED_BY_HEADER_BYTES;
  const limit = byRecord ? maxBytes : MAX_UPDATED_BY_HEADER_BYTES;
  if (value.length > limit) {
    const size = value.length;
    const why = byRecord
      ? "a variable record's (the delete's change event carries it and the old value in one NATS message)"
      : "the most a delete marker's header may hold (JetStream refuses a message whose headers take over 64 KiB)";
    throw new ValidationError(
      `the updatedBy of the delete of '${key}' is ${size} bytes encoded, over ` +
        `${maxBytes === undefined ? 'the' : "this node's"} limit of ${limit} bytes, ${why}`,
      { ...variableOfKey(key), details: { key, constraint: 'maxUpdatedByBytes', size, limit } },
    );
  }
  return { [UPDATED_BY_HEADER]: value };
}

/** The error option naming the variable of a key of the variables bucket (`<session>.<variable>`); none without. */
function variableOfKey(key: string): { variable?: string } {
  const session = sessionOfKey(key);
  return session === '' ? {} : { variable: key.slice(session.length + 1) };
}

/**
 * The `updatedBy` a message's headers carry; `undefined` without the header, or with one that is not a JSON string
 * (not written by Tether): a delete that names nobody.
 */
export function updatedByIn(headers: MsgHdrs | undefined): string | undefined {
  const raw = headers?.get(UPDATED_BY_HEADER);
  if (!raw) return undefined;
  try {
    const value: unknown = JSON.parse(raw);
    return typeof value === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The headers of the message behind a bucket entry: `header` of a stored message (`kv.get`), `headers` of a
 * consumer's message (`kv.watch`); `undefined` when nats.js holds them elsewhere.
 */
export function entryHeaders(entry: KvEntry): MsgHdrs | undefined {
  const message = (entry as unknown as { readonly sm?: { readonly header?: MsgHdrs; readonly headers?: MsgHdrs } }).sm;
  return message?.header ?? message?.headers;
}

/** Who deleted, for a bucket entry that is a delete marker naming someone; `undefined` otherwise. */
export function deletedBy(entry: KvEntry): string | undefined {
  return entry.operation === 'PUT' ? undefined : updatedByIn(entryHeaders(entry));
}
