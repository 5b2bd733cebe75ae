/**
 * What a remote watch knows of each watched variable, and the changes that bring its listener up to date after
 * the watch's connection dropped (events are core NATS: those published meanwhile are gone).
 *
 * The watch reads the watched variables, and for each one that moved past what it knows it reads the kept
 * history, so the listener gets every missed version in order while the bucket still keeps it. What can no longer
 * be told is marked `gap: true` (see {@link VariableChange.gap}): a variable deleted meanwhile becomes a deleted
 * change one version past the last one delivered; versions no longer kept are skipped to the first one kept; a
 * history that cannot be read at all (too large, or the variable gone since) leaves the version read alone. A
 * history read that fails for a reason another try may cure ({@link isRetried}) fails the whole pass instead, and
 * the pass changes nothing the watch knows, so the next one still delivers those versions. A fault of the node that
 * answered ({@link isFault}) may not pass: the watch tries {@link FAULT_TRIES} times in all, then gives up on it
 * (remote-watch.ts), rather than hold the session's events for ever.
 *
 * A variable deleted and defined again is another variable (another `id`) whose versions start again at 1, so
 * versions are compared within one identity only; events carry the identity (`id`) for that.
 *
 * The same reads repair an event that skips versions while the connection stayed up ({@link skipsVersions}): the
 * node that committed the versions in between died before publishing their events, or events of two nodes
 * crossed on the wire. The watch then reads that one variable and its history before it goes on. Crossed events
 * come while it reads, and it holds them: they tell the versions a burst of writes pushed out of the history before
 * the read was answered, which would otherwise have been skipped as a gap. A variable the watch never knew live (a
 * define and its delete crossed, the delete first) is told by the held delete and the held events of its identity.
 * @module
 */
import type { VariableChange } from '../session/session-context.js';
import type { VariableHistoryEntry } from '../session/variable-history.js';
import { changeFromRecord, missedDelete } from '../session/variable-reads.js';
import type { VariableRecord } from '../variables/types.js';
import type { VariableEvent } from './variable-events.js';
import { changeOf } from './watch-subscriptions.js';

/**
 * Failures of a catch-up read worth another try: no node answers yet (or the one that took it stopped), or the
 * connection dropped again; and a fault of the node that answered (`internal_error`), for {@link FAULT_TRIES} tries.
 */
const RETRIED = new Set([
  'noproc',
  'call_timeout',
  'internal_error',
  'store_closed',
  'node_stopping',
  'session_stopped',
]);

/**
 * How many times in all a catch-up read is tried that fails with a fault of the node that answered ({@link isFault}):
 * another try may reach another node, or one past a passing fault, but a fault that stays (a history the node cannot
 * read, say) would hold every later event of the session for ever.
 */
export const FAULT_TRIES = 3;

/** The wait before a catch-up read's next try, doubled after each failed one up to {@link RETRY_MAX_MS}. */
export const RETRY_FIRST_MS = 100;
export const RETRY_MAX_MS = 2000;

/**
 * Waits `waitMs` before a read's next try, or less: `onWake` is given the function that ends the wait at once (the
 * connection is back, and the next read is then likely to get through), and `undefined` once it is over.
 */
export function retryPause(waitMs: number, onWake: (wake: (() => void) | undefined) => void): Promise<void> {
  return new Promise((resolve) => {
    const end = (): void => {
      clearTimeout(timer);
      onWake(undefined);
      resolve();
    };
    const timer = setTimeout(end, waitMs);
    onWake(end);
  });
}

/** Whether a catch-up read that failed with `error` is worth another try (see the module comment). */
export function isRetried(error: unknown): boolean {
  const { code, status } = (error ?? {}) as { code?: unknown; status?: unknown };
  // A read whose reply the connection lost as it dropped again (a closed connection is not worth another try).
  if (code === 'nats_connection') return status === 'disconnected';
  return typeof code === 'string' && RETRIED.has(code);
}

/** Whether a catch-up read failed with a fault of the node that answered (tried {@link FAULT_TRIES} times). */
export function isFault(error: unknown): boolean {
  return (error as { code?: unknown } | undefined)?.code === 'internal_error';
}

/** What a watch has accounted for of one variable: delivered to its listener, or read as its starting point. */
export interface KnownVariable {
  /** The variable's identity; `undefined` when an event did not carry it (one from an older node). */
  readonly id: string | undefined;
  /** The last version accounted for (for a deleted variable, the delete's). */
  readonly version: number;
  readonly deleted: boolean;
  /**
   * The store revision of the last event delivered; or, when `fromRead`, the revision the read's reply reported,
   * at least that of every write the read reflects.
   */
  readonly revision: number;
  /** Set when a read, not an event, was the last word on this variable. */
  readonly fromRead: boolean;
  /**
   * The value of the version accounted for (not of a delete), boxed: a catch-up whose history no longer keeps that
   * version still tells the next one what it replaced.
   */
  readonly current?: { readonly value: unknown };
}

/** The kept versions of a variable, oldest first; rejects when they cannot be read. */
export type ReadHistory = (name: string) => Promise<readonly VariableHistoryEntry[]>;

/** What the watch knows after delivering `event`, whose value, as delivered, is `value`. */
export function knownFromEvent(event: VariableEvent, value: unknown): KnownVariable {
  return {
    id: event.id,
    version: event.version,
    deleted: event.deleted === true,
    revision: event.revision,
    fromRead: false,
    ...(event.deleted ? {} : { current: { value } }),
  };
}

/** What the watch knows after a read (at reply revision `revision`) that found `record`. */
export function knownFromRecord(record: VariableRecord, revision: number): KnownVariable {
  return {
    id: record.id,
    version: record.version,
    deleted: false,
    revision,
    fromRead: true,
    current: { value: record.value },
  };
}

/**
 * What the watch knows of a variable it had no word of when a read at reply revision `revision` covered its name and
 * did not find it: absent then, so that an event the read already reflected (a delete that crossed the read on the
 * wire) is no news, while a write after it is.
 */
export function knownAbsent(revision: number): KnownVariable {
  return { id: undefined, version: 0, deleted: true, revision, fromRead: true };
}

/**
 * Whether `event` is news to a watch that knows `known`: events of one variable can cross on the wire (they
 * come from different nodes), and those a read already reflected must not be delivered again.
 */
export function isNewer(event: VariableEvent, known: KnownVariable | undefined): boolean {
  if (known === undefined) return true;
  // A variable known deleted has no version after its delete: a late event of it (its delete read again, say, by a
  // reply whose revision understated what it reflected) would otherwise be taken again.
  if (known.deleted && event.id !== undefined && event.id === known.id) return false;
  if (!known.fromRead) return event.revision > known.revision;
  // A version of the very variable read, up to the one read, is never news, whatever the revisions say: a reply's
  // revision has been seen to understate what the answering node's view reflected (the concurrency fuzzer, with a
  // node joining and sixteen writers on two cores), and the watch then delivered the version read a second time.
  if (!known.deleted && event.id !== undefined && event.id === known.id && event.version <= known.version) return false;
  // Past the read's revision, the read cannot reflect it.
  if (event.revision > known.revision) return true;
  // At or before it, only a write the answering node had not applied yet is news: one of the variable it read.
  if (event.id !== undefined && known.id !== undefined && event.id !== known.id) return false;
  return !known.deleted && event.version > known.version;
}

/**
 * Whether `event`, news to a watch that knows `last` (see {@link isNewer}), comes after versions the watch has not
 * accounted for: a version past the next one of the same variable, a first event of a variable not known (or known
 * deleted) past its version 1, or an event of another variable than the live one known (whose delete was missed).
 * Consecutive versions, the normal case, cost no read.
 */
export function skipsVersions(event: VariableEvent, last: KnownVariable | undefined): boolean {
  if (last === undefined || last.deleted) return event.version > 1;
  // Without the identity (an event of an older node), a version not above the known one can only be another variable.
  const same = event.id !== undefined && last.id !== undefined ? event.id === last.id : event.version > last.version;
  return !same || event.version > last.version + 1;
}

/**
 * The versions of `record` after `after`, in order: from the kept history, and from `held`, the events the watch
 * holds while it reads, for the versions the history no longer keeps (a burst of writes can push them out of it
 * before the read is answered, while their events, crossed on the wire, are at hand); the record itself when neither
 * has it. A version told by neither is a gap, marked on the next one. Rejects when the history read failed for a
 * reason another try may cure; a history that cannot be read for good is as one that keeps nothing.
 */
async function missedVersions(
  record: VariableRecord,
  after: number,
  afterValue: { readonly value: unknown } | undefined,
  history: ReadHistory,
  held: () => readonly VariableEvent[],
): Promise<VariableChange[]> {
  const { name } = record;
  const byVersion = new Map<number, VariableChange>();
  // Up to the version read: later ones come as events (written after the read, so published to this watch).
  const wanted = (version: number): boolean => version > after && version <= record.version;
  // A variable defined (once) since: its record says it all.
  if (record.version > 1) {
    const entries = await history(name).catch((error: unknown) => {
      if (isRetried(error)) throw error;
      return undefined;
    });
    // Taken once the history is in, so the events that came meanwhile count; only this variable's (its identity).
    const told = new Map<number, VariableChange>();
    for (const event of held()) {
      const own = event.name === name && event.id !== undefined && event.id === record.id && !event.deleted;
      if (own && wanted(event.version)) told.set(event.version, changeOf(event));
    }
    // The history is read after the record: it must still be this variable's (not one deleted and defined again).
    if (entries?.some((entry) => entry.version === record.version && entry.updatedAt === record.updatedAt)) {
      const kept = new Map(entries.map((entry) => [entry.version, entry]));
      for (const entry of entries) {
        if (!wanted(entry.version)) continue;
        const { value: newValue, version, updatedBy } = entry;
        const before = kept.get(version - 1);
        const oldValue = before ? before.value : told.get(version - 1)?.newValue;
        byVersion.set(version, { name, oldValue, newValue, version, updatedBy });
      }
    }
    for (const [version, change] of told) if (!byVersion.has(version)) byVersion.set(version, change);
  }
  if (!byVersion.has(record.version)) byVersion.set(record.version, changeFromRecord(record));
  const changes: VariableChange[] = [];
  let next = after + 1;
  // A change not marked is the next one and says what it replaced: `oldValue: undefined` would tell a listener that
  // applies the changes that the variable was new. Neither the history nor an event tells it for the first version
  // when the history no longer keeps version `after` (a burst of writes pushed it out before the read was answered),
  // nor for the record standing alone: the value before is then the one the watch knew last, or the change before's.
  let before = afterValue;
  for (const version of [...byVersion.keys()].sort((a, b) => a - b)) {
    const change = byVersion.get(version)!;
    if (version > next) changes.push({ ...change, gap: true });
    else changes.push(change.oldValue === undefined && before ? { ...change, oldValue: before.value } : change);
    before = { value: change.newValue };
    next = version + 1;
  }
  return changes;
}

/** One variable (one identity) at one version. */
interface Position {
  readonly id: string | undefined;
  readonly version: number;
}

/**
 * The changes of a variable the watch knows live (`live`) and a read no longer found: when the watch holds the delete's
 * own event, the writes between that it holds (events of two nodes crossed on the wire), then the delete, each marked
 * only where a version is missing before it; otherwise the delete as a gap one version past the last one delivered
 * (the history of a deleted variable cannot be read, nor can its delete's version be told).
 */
function deleteChanges(name: string, live: Position, held: readonly VariableEvent[]): VariableChange[] {
  const own = held.filter((event) => event.name === name && event.id !== undefined && event.id === live.id);
  const end = own.find((event) => event.deleted && event.version > live.version);
  if (!end) return [missedDelete(name, live)];
  const between = new Map<number, VariableEvent>();
  for (const event of own) {
    if (!event.deleted && event.version > live.version && event.version < end.version)
      between.set(event.version, event);
  }
  const changes: VariableChange[] = [];
  let next = live.version + 1;
  for (const event of [...[...between.values()].sort((a, b) => a.version - b.version), end]) {
    const change = changeOf(event);
    changes.push(event.version > next ? { ...change, oldValue: undefined, gap: true } : change);
    next = event.version + 1;
  }
  return changes;
}

/**
 * The variables of `name` defined and deleted between the one the watch knows and the one read (neither of which
 * `others` holds), told by the deletes the watch holds: the watch never knew them live, since a define and its delete
 * written through two nodes crossed on the wire, the delete first. Each one's define and writes it holds come first,
 * then its delete, marked only where a version is missing before it (see {@link deleteChanges}), in the order of the
 * deletes. `end` is the last one.
 */
function crossedVariables(
  name: string,
  others: readonly (string | undefined)[],
  held: readonly VariableEvent[],
): { readonly changes: VariableChange[]; readonly end?: Position } {
  const ends = new Map<string, VariableEvent>();
  for (const event of held) {
    if (event.name !== name || !event.deleted || event.id === undefined || others.includes(event.id)) continue;
    ends.set(event.id, event);
  }
  const changes: VariableChange[] = [];
  let end: Position | undefined;
  for (const each of [...ends.values()].sort((a, b) => a.revision - b.revision)) {
    changes.push(...deleteChanges(name, { id: each.id, version: 0 }, held));
    end = { id: each.id, version: each.version };
  }
  return end ? { changes, end } : { changes };
}

/**
 * The changes of one variable between what the watch knows (`last`) and what it read (`record`); when the read did not
 * find it, `end` is the variable whose delete came last, if any did.
 */
async function changesOf(
  name: string,
  last: KnownVariable | undefined,
  record: VariableRecord | undefined,
  history: ReadHistory,
  held: () => readonly VariableEvent[],
): Promise<{ readonly changes: VariableChange[]; readonly end?: Position }> {
  const live = last !== undefined && !last.deleted ? last : undefined;
  if (record === undefined) {
    const events = held();
    const ended = live ? deleteChanges(name, live, events) : [];
    const crossed = crossedVariables(name, [last?.id], events);
    const end = crossed.end ?? (live ? { id: live.id, version: ended.at(-1)!.version } : undefined);
    return { changes: [...ended, ...crossed.changes], ...(end ? { end } : {}) };
  }
  // Without the identity (an event of an older node), a lower version than known can only be another variable.
  const same = live !== undefined && (live.id !== undefined ? live.id === record.id : record.version >= live.version);
  const changes = live && !same ? [missedDelete(name, live)] : [];
  if (!same) changes.push(...crossedVariables(name, [last?.id, record.id], held()).changes);
  const after = same ? live.version : 0;
  if (record.version > after)
    changes.push(...(await missedVersions(record, after, same ? live.current : undefined, history, held)));
  return { changes };
}

/**
 * The changes that bring a listener that knows `known` to `records` (every watched variable, as a read answered
 * at reply revision `revision`, or, read a page at a time, at the revision `revision(name)` of the page whose names
 * cover each one): per variable in version order, variables by name. Updates `known` to match once every variable is
 * done: a pass that rejects (a history read to be tried again) leaves `known` as it was. `also` names variables the
 * read covered that may be in neither (an event's, read to repair it): each one the read did not find is known from
 * then on as absent at its revision, so the events the read reflects are not news. `held` gives the events the watch
 * holds meanwhile, which tell the versions the history no longer keeps (see {@link missedVersions}).
 */
export async function catchUpChanges(
  known: Map<string, KnownVariable>,
  records: readonly VariableRecord[],
  revisionOf: number | ((name: string) => number),
  history: ReadHistory,
  also: Iterable<string> = [],
  held: () => readonly VariableEvent[] = () => [],
): Promise<VariableChange[]> {
  const read = new Map(records.map((record) => [record.name, record]));
  const names = [...new Set([...known.keys(), ...read.keys(), ...also])].sort();
  const changes: VariableChange[] = [];
  const next = new Map<string, KnownVariable>();
  for (const name of names) {
    const record = read.get(name);
    const last = known.get(name);
    const revision = typeof revisionOf === 'number' ? revisionOf : revisionOf(name);
    // One history read at a time: after an outage, every watch of every client catches up at once.
    const own = await changesOf(name, last, record, history, held);
    changes.push(...own.changes);
    // A read never goes back on what was delivered (it carries the client's revision): kept as a safeguard.
    if (record) {
      if (!(last?.id === record.id && last.version > record.version)) next.set(name, knownFromRecord(record, revision));
    }
    // The delete delivered last, with its own version when its event was held.
    else if (own.end) next.set(name, { ...own.end, deleted: true, revision, fromRead: true });
    else if (last) next.set(name, { id: last.id, version: last.version, deleted: true, revision, fromRead: true });
    else next.set(name, knownAbsent(revision));
  }
  for (const [name, position] of next) known.set(name, position);
  return changes;
}
