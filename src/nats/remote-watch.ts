/**
 * `watchVariables` for a remote session, built on the events subjects. The subscription is registered with the
 * server first (flush), then the watched variables are read (the watch's starting point, delivered first with
 * `includeInitial`), so no change falls between the two: changes that arrive during the read are held back and
 * those the read already reflects are dropped.
 *
 * Events are core NATS: those published while this client's connection is down never reach it. So from the
 * moment the connection drops, events are held back again; once it is back (nats.js has subscribed again), the
 * watch reads the watched variables and delivers, in version order, the versions its listener missed (see
 * watch-catch-up.ts), then the held events it has not delivered that way. A read (of the variables or of a
 * history) that fails because no node answers yet or the connection dropped again (`noproc`, `call_timeout`,
 * `nats_connection` while the connection is not closed, `store_closed`, `node_stopping`, `session_stopped`) is
 * retried, for ever, with a back-off of up to 2 s; the listener hears nothing meanwhile. One that fails with a fault
 * of the node that answered (`internal_error`) is tried {@link FAULT_TRIES} times in all: a fault that stays (a
 * history the node cannot read) must not hold the session's events for ever. A read of the variables that fails
 * otherwise, or keeps failing so, is reported (`onError`) and the watch carries on with events, an event that skips
 * versions marked `gap: true`; a history that cannot be read otherwise becomes a gap (see watch-catch-up.ts). Once the
 * connection has closed for good nothing can be read: the events held go on, an event that skips versions marked.
 * At most {@link HELD_MAX} events are held: past that they are dropped, and another pass reads what they told.
 *
 * Events of one variable can come from different nodes and cross on the wire; a change older than one already
 * delivered for that variable is skipped, so a listener never goes backwards. An event that skips versions (its
 * predecessor crossed it, or the node that committed the versions in between died before publishing their
 * events: a node publishes only its own commits) is held, with every event after it, while the watch reads that
 * variable and its history at a revision at least the event's (see {@link skipsVersions}); the versions in between
 * come first, from the history, or the next one kept comes marked `gap: true`. A delete that skips versions of a
 * variable the watch knows is held the same way: a deleted variable's history cannot be read, but the events of the
 * versions in between, crossed on the wire, come while the read finds it gone, and are delivered before it; one that
 * never came (its node died) marks the delete. So is a delete of a variable the watch knows only as deleted or absent:
 * that variable was defined again through one node and deleted through another, and the define's event (and those of
 * its writes) that come meanwhile are delivered first. The event whose variable cannot be read for a reason another
 * try would not cure comes marked at once, as does a delete of a variable the watch has had no read of (after a reset
 * of the bucket, see below). Consecutive versions cost no read.
 *
 * A watch lives as long as the life of the session it watches: when the session is deleted or expires, the node that
 * removed it publishes `<prefix>.v1.events.<sid>.session`, and the watch stops there (as an embedded session's
 * watchers are dropped), telling the client's `onError` with the `SessionError` a request would get (unless this
 * client deleted the session itself: then silently, as embedded, see `RemoteTransport.deleting`); a catch-up
 * read that finds the session's life gone stops it too. So the listener never hears the id's next life. A watch of a
 * handle bound to no life (`create: false`) stops on the event alone: a catch-up read that finds no session is
 * reported and the watch carries on, as before sessions had lives (the subscriptions: watch-subscriptions.ts).
 * Events name their life (`incarnation`): a watch bound to a life drops another one's, so a write of the next life
 * that overtook the end event on the wire (published by another node) does not reach its listener either.
 *
 * Revisions order events within one bucket only. When the client learns that the variables bucket was re-created
 * or reset (a `revision_unknown` reply, see remote-transport.ts), the revisions the watch knows belong to the old
 * bucket and would make every event of the new one (whose revisions start again at 1) look old: the watch forgets
 * them and catches up as after a drop (the listener hears the old variables' end as gaps, then the new ones), and
 * events held meanwhile are dropped, since nothing tells which bucket they came from; the catch-up's read covers
 * them. Comparing identities (`id`) instead would not do: within one bucket a late event of a variable deleted and
 * defined again also has another id, and it must not be delivered after the new variable's.
 * @module
 */
import type { Subscription } from 'nats';
import { isSessionGone, type SessionError } from '../errors.js';
import type { Unwatch, VariableChange, VariableListener, WatchVariablesOptions } from '../session/session-context.js';
import { changeFromRecord } from '../session/variable-reads.js';
import { compileGlob } from '../variables/glob.js';
import { isVariableName } from '../variables/names.js';
import type { VariablesRead } from './paged-reads.js';
import type { RemoteTransport } from './remote-transport.js';
import type { VariableEvent } from './variable-events.js';
import {
  catchUpChanges,
  FAULT_TRIES,
  isFault,
  isNewer,
  isRetried,
  knownFromEvent,
  RETRY_FIRST_MS,
  RETRY_MAX_MS,
  retryPause,
  skipsVersions,
  knownFromRecord,
  knownAbsent,
  type KnownVariable,
  type ReadHistory,
} from './watch-catch-up.js';
import {
  changeOf,
  subscribeSessionEnd,
  subscribeVariableEvents,
  type SubscriptionFailed,
} from './watch-subscriptions.js';
import { refusalOf, refusedError } from './permission-refusal.js';
import { callUserCallback } from '../runtime/user-callback.js';

/**
 * The most events a watch holds back while it reads: past that (a long outage of the nodes while NATS carries
 * writes on) it drops them and reads again, as after a drop of its connection, rather than grow without bound.
 */
export const HELD_MAX = 10_000;

/** What a remote watch reads through the nodes. */
export interface WatchReads {
  /** The records of the variables matching the glob, with the store revision each reflects. */
  list(pattern: string): Promise<VariablesRead>;
  /** The kept versions of one variable, oldest first. */
  readonly history: ReadHistory;
}

/**
 * Registers a watch's end with what must end it (its session handle's stop), from the moment the watch starts;
 * returns the remover, which the watch calls once it has ended, however it ended.
 */
export type TrackWatch = (end: () => void) => () => void;

/**
 * Watches the variables of `sessionId` (its life `incarnation`, when the handle knows it) matching `pattern` through
 * `transport`. `track`, when given, is told the watch's end before anything is read: what calls that end while the
 * watch starts ends it then, and its listener hears nothing of the start.
 */
export async function watchRemote(
  transport: RemoteTransport,
  sessionId: string,
  incarnation: string | undefined,
  pattern: string,
  listener: VariableListener,
  options: WatchVariablesOptions,
  reads: WatchReads,
  track?: TrackWatch,
): Promise<Unwatch> {
  const matches = compileGlob(pattern);
  const subjects = transport.subjects;
  // A pattern that is a plain name needs only its own subject; any other one filters the session's events here.
  const subject = isVariableName(pattern)
    ? subjects.variableEvent(sessionId, pattern)
    : subjects.variableEvents(sessionId);
  const known = new Map<string, KnownVariable>();
  /**
   * The revisions of the last read of every watched variable: one it did not find, and of which the watch has had no
   * word since, was absent then (see {@link knownAbsent}), so its delete that crossed the read comes to nothing.
   */
  let readAt: ((name: string) => number) | undefined;
  /** Events held back while the watch reads: at its start, and from a drop until it has caught up. */
  let held: VariableEvent[] | undefined = [];
  let active = true;
  /** Drops of the connection (or of held events) so far: a catch-up that saw one more during its read reads again. */
  let drops = 0;
  /** The drops the last full read covered: a full read is due while `drops` is past it. */
  let covered = 0;
  /** Variables with an event that skipped versions (held), to read before the held events go on. */
  const skipped = new Set<string>();
  /** Variables whose read failed for good: their next skipping event is delivered, marked, without a read. */
  const unreadable = new Set<string>();
  let reading = true;
  let wake: (() => void) | undefined;
  /** The server's refusal of a subscription while the watch starts: the start fails with it (see the start). */
  let refused: Error | undefined;
  let starting = true;
  const failed: SubscriptionFailed = (error, where) => {
    if (starting && refusalOf(error)) refused ??= error;
    else transport.report(error, where);
  };

  const deliver = (change: VariableChange): void => {
    // Ended while a read was under way (by its handle's stop, say): what the read brought is no news to anyone.
    if (!active) return;
    // Frozen as an embedded watch hands its changes out (see WatchHub.publish): the same code must not throw on
    // one and pass on the other. Each change here is fresh, so freezing it costs no copy.
    callUserCallback(
      () => listener(Object.freeze(change)),
      (error) => transport.report(error, `watcher of session ${sessionId}`),
    );
  };
  /** What the watch knows of variable `name`: its last word, or its absence from the last full read. */
  const lastOf = (name: string): KnownVariable | undefined =>
    known.get(name) ?? (readAt ? knownAbsent(readAt(name)) : undefined);
  const accept = (event: VariableEvent): void => {
    const last = lastOf(event.name);
    if (!isNewer(event, last)) return;
    let gap = false;
    if (skipsVersions(event, last)) {
      // Closed for good, the connection can read nothing more (and a repair would end at once and come back here).
      // A delete of a variable known deleted (or absent) is held too: its define's event may have crossed it. One of
      // a name the watch has had no read of since its bucket was reset has nothing before it the watch could tell.
      const unknownDelete = event.deleted === true && last === undefined;
      gap = unknownDelete || unreadable.delete(event.name) || transport.connection.isClosed();
      if (!gap) return repair(event);
    }
    const change = changeOf(event);
    known.set(event.name, knownFromEvent(event, change.newValue));
    // The listener may read the variable next, through any node: that read must not be older than this event.
    transport.observeRevision(event.revision);
    deliver(gap ? { ...change, oldValue: undefined, gap: true } : change);
  };
  /** Holds `event` and those after it while its variable is read (see the module comment). */
  const repair = (event: VariableEvent): void => {
    held = [event];
    skipped.add(event.name);
    // The read must reflect at least this event, so that it and the ones before it are not news afterwards.
    transport.observeRevision(event.revision);
    void catchUp();
  };
  /**
   * The events held so far that are news: a catch-up fills from them the versions the history no longer keeps, and
   * the variables defined and deleted that it never knew live. One a read already reflected (a delete that crossed
   * the first read) tells nothing.
   */
  const heldNow = (): readonly VariableEvent[] => (held ?? []).filter((event) => isNewer(event, lastOf(event.name)));
  const release = (): void => {
    const waiting = held ?? [];
    held = undefined;
    for (const [at, event] of waiting.entries()) {
      accept(event);
      // A skip holds it again (TypeScript cannot see accept() do so): the events after it wait for its repair.
      const repairing = held as VariableEvent[] | undefined;
      if (repairing) return void repairing.push(...waiting.slice(at + 1));
    }
    unreadable.clear();
  };

  let subscription: Subscription | undefined = subscribeVariableEvents(
    transport,
    subject,
    sessionId,
    incarnation,
    matches,
    (event) => {
      if (!held) return accept(event);
      if (held.length < HELD_MAX) return void held.push(event);
      // The next read must reflect what the dropped events told, whichever node answers it.
      for (const each of held) transport.observeRevision(each.revision);
      transport.observeRevision(event.revision);
      held = [];
      // Counted as a drop: a catch-up under way reads again; otherwise one is to come (at the start's end, or
      // when the connection is back).
      drops += 1;
    },
    failed,
  );
  const stopListening = transport.onConnectionChange((change) => {
    // Held from the drop on: an event published once nats.js has subscribed again may come before the
    // reconnect news, and must not overtake the versions the catch-up is to deliver before it.
    held ??= [];
    if (change === 'disconnected') drops += 1;
    else if (reading) wake?.();
    else void catchUp();
  });
  const stopResetting = transport.onVariablesReset(() => {
    for (const [name, position] of known) known.set(name, { ...position, revision: 0 });
    readAt = undefined;
    held = [];
    drops += 1;
    if (reading) wake?.();
    else void catchUp();
  });
  /** The session's end (its event, or a read that finds it gone): the watch stops, and the client is told. */
  const ended = (error: SessionError): void => {
    if (!active) return;
    unwatch();
    transport.reportEnd(sessionId, error, `watcher of session ${sessionId}: the session ended, the watch stopped`);
  };
  // The session's end ends the watch: nothing of the id's next life reaches this listener.
  let endSubscription: Subscription | undefined = subscribeSessionEnd(transport, sessionId, incarnation, ended, failed);
  let untrack = (): void => {};
  const unwatch: Unwatch = () => {
    if (!active) return;
    active = false;
    // A watch ended by itself (its session's end) would otherwise stay with its handle until the handle's stop.
    untrack();
    subscription?.unsubscribe();
    subscription = undefined;
    endSubscription?.unsubscribe();
    endSubscription = undefined;
    stopListening();
    stopResetting();
    held = undefined;
    wake?.();
  };
  if (track) untrack = track(unwatch);

  /** The changes of the variables named (each read apart), delivered as each one's read is done. */
  async function readSkipped(names: readonly string[]): Promise<void> {
    for (const name of names) {
      // A name is a glob that matches itself alone.
      const { records, revisionOf } = await reads.list(name);
      const position = known.get(name);
      const one = new Map(position ? [[name, position]] : []);
      const changes = await catchUpChanges(one, records, revisionOf, reads.history, [name], heldNow);
      if (!active) return;
      for (const [each, now] of one) known.set(each, now);
      for (const change of changes) deliver(change);
      skipped.delete(name);
    }
  }

  /**
   * Reads until one read saw no drop, delivering what the listener missed; then the held events. A read of every
   * watched variable after a drop, of the skipped ones alone otherwise.
   */
  async function catchUp(): Promise<void> {
    reading = true;
    let waitMs = RETRY_FIRST_MS;
    /** Failed tries in a row with a fault of the node that answered: given up on at {@link FAULT_TRIES}. */
    let faults = 0;
    while (active && !transport.connection.isClosed()) {
      const dropsBefore = drops;
      const full = drops !== covered;
      if (!full && skipped.size === 0) break;
      try {
        if (full) {
          const { records, revisionOf } = await reads.list(pattern);
          const changes = await catchUpChanges(known, records, revisionOf, reads.history, skipped, heldNow);
          if (!active) break;
          readAt = revisionOf;
          for (const change of changes) deliver(change);
          covered = dropsBefore;
          skipped.clear();
        } else await readSkipped([...skipped]);
        faults = 0;
      } catch (error) {
        // A handle bound to a life reads it no more: that life is over. An unbound one follows the id (see above).
        if (incarnation !== undefined && isSessionGone(error)) {
          ended(error);
          break;
        }
        faults = isFault(error) ? faults + 1 : 0;
        if (!isRetried(error) || faults >= FAULT_TRIES) {
          const tries = faults >= FAULT_TRIES ? ` (given up after ${FAULT_TRIES} tries)` : '';
          transport.report(error, `watcher of session ${sessionId}: catching up on '${pattern}'${tries}`);
          // Given up on: the held events go on, a skipping one marked (see accept).
          covered = dropsBefore;
          for (const name of skipped) unreadable.add(name);
          skipped.clear();
          break;
        }
        await retryPause(waitMs, (end) => (wake = end));
        waitMs = Math.min(waitMs * 2, RETRY_MAX_MS);
      }
    }
    reading = false;
    if (active) release();
  }

  try {
    // Once the server has the subscription, every later change reaches it: the watch is live when this resolves.
    await transport.subscribed(`watch of '${pattern}' in session '${sessionId}'`);
    // The server refuses a subscription before it answers the flush, and nats.js has closed it then: a watch that
    // could hear nothing fails its start.
    starting = false;
    if (refused) {
      throw refusedError(
        transport.connection.getServer(),
        `watch of '${pattern}' in session '${sessionId}' refused`,
        refused,
      );
    }
    const { records, revisionOf } = await reads.list(pattern);
    readAt = revisionOf;
    for (const record of records) {
      known.set(record.name, knownFromRecord(record, revisionOf(record.name)));
      if (options.includeInitial) {
        deliver(changeFromRecord(record));
      }
    }
    // Dropped (or held events dropped) while starting: the read may predate what was lost meanwhile.
    if (drops > 0) void catchUp();
    else {
      reading = false;
      release();
    }
  } catch (error) {
    unwatch();
    throw error;
  }
  return unwatch;
}
