/**
 * Variable change events on NATS: `<prefix>.v1.events.<sid>.var.<name>`, one JSON message per accepted write.
 *
 * Published by the node that committed the write and by no other (see tracking-store.ts): every node with the
 * session open sees the change, but only the committing node knows it was its own. So a plain
 * `nc.subscribe('tether.v1.events.>')` sees each change once. Core NATS, so at most once: a node that dies
 * between its commit and its publish loses that event, never the write. Events of one node come in commit
 * order; events of one variable from two nodes can cross on the wire, so `version` and `revision` are given.
 * A remote watch (remote-watch.ts) makes up for lost events by reading the store: after its own connection drops,
 * and when an event skips versions of its variable.
 * @module
 */
import { encodeValue } from '../variables/codec.js';
import type { JsonValue, VariableType } from '../variables/types.js';
import type { CommittedChange } from './commit-announcer.js';

/**
 * One event as it travels. `oldValue` is absent for a new variable, `newValue` for a deleted one (JSON has no
 * `undefined`, and `null` is a value a `json` variable can hold); values go through the variable codec.
 */
export interface VariableEvent {
  readonly sessionId: string;
  readonly name: string;
  /**
   * The variable's identity: a variable deleted and defined again is another one, whose versions start again at
   * 1. Optional for events of nodes that did not send it yet.
   */
  readonly id?: string;
  /**
   * The life of the session the change was made in (its record's `incarnation`, as the session's end event names
   * it): a session deleted or expired and opened again is another life. Absent when the node did not know it.
   */
  readonly incarnation?: string;
  readonly type: VariableType;
  /**
   * The type `oldValue` is of, when it is not `type`: an import with `replace` can change a variable's type, and
   * each value is encoded for its own (a float's `"NaN"` and a string's `"NaN"` read differently).
   */
  readonly oldType?: VariableType;
  readonly oldValue?: JsonValue;
  readonly newValue?: JsonValue;
  readonly version: number;
  readonly updatedBy: string | null;
  /** The store revision of the write. */
  readonly revision: number;
  readonly deleted?: true;
  /**
   * Set when `oldValue` was left out because the event would not fit in the server's `max_payload` (only a value
   * stored before the node's record limit applied, or by a node with a higher one, can be that large: the new
   * value of an accepted write always fits), or because the node could not read it (another node had written it
   * just before, and the node's lookup in the key's history failed or no longer found it).
   */
  readonly oldValueOmitted?: true;
}

/**
 * The event for a committed write, or `undefined` when watchers would not hear of it either: a lock change
 * (same variable, same version) or a delete of a key that held nothing.
 */
export function variableEventOf(change: CommittedChange): VariableEvent | undefined {
  const dot = change.key.indexOf('.');
  if (dot <= 0) return undefined;
  const sessionId = change.key.slice(0, dot);
  const name = change.key.slice(dot + 1);
  const { before, after, revision } = change;
  const life = change.incarnation === undefined ? {} : { incarnation: change.incarnation };
  if (after) {
    if (before && before.id === after.id && before.version === after.version) return undefined;
    return {
      sessionId,
      name,
      id: after.id,
      ...life,
      type: after.type,
      ...(before && before.type !== after.type ? { oldType: before.type } : {}),
      ...(before
        ? { oldValue: encodeValue(before.type, before.value) }
        : change.beforeUnknown
          ? { oldValueOmitted: true as const }
          : {}),
      newValue: encodeValue(after.type, after.value),
      version: after.version,
      updatedBy: after.updatedBy,
      revision,
    };
  }
  if (!before) return undefined;
  return {
    sessionId,
    name,
    id: before.id,
    ...life,
    type: before.type,
    oldValue: encodeValue(before.type, before.value),
    version: before.version + 1,
    updatedBy: change.updatedBy ?? null,
    revision,
    deleted: true,
  };
}

/**
 * The event that stands for one too large for a NATS message: the same change without its old value (see
 * {@link VariableEvent.oldValueOmitted}); `undefined` when it has none to leave out.
 */
export function withoutOldValue(event: VariableEvent): VariableEvent | undefined {
  if (!('oldValue' in event)) return undefined;
  const { oldValue: _omitted, oldType: _itsType, ...rest } = event;
  return { ...rest, oldValueOmitted: true };
}
