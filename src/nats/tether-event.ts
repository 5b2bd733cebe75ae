/**
 * What {@link subscribeEvents} hands its listener: one message of the events feed ({@link TetherEvent}) or of the
 * inspect feed ({@link InspectedEvent}), split out of its subject, with its decoded payload. `kind` tells the payloads
 * apart, so `switch (event.kind)` narrows `data`.
 * @module
 */
import type { InspectedSnapshot } from './inspection.js';
import type { ModuleEvent } from './module-events.js';
import type { VariableEvent } from './variable-events.js';

/**
 * One message as it arrived: `<prefix>.v1.events.<sid>.<kind>[.<name>]` or `<prefix>.v1.inspect.<sid>.<kind>[.<name>]`.
 * `data` is typed as a node publishes it; the subscriber does not check it (a tool shows what it gets rather than drop
 * it), so a message that another publisher put on these subjects arrives as it came, as its text when it is no JSON.
 */
export interface TetherMessage<K extends string, D> {
  /** The full subject, e.g. `tether.v1.events.chat-1.var.temperature`. */
  readonly subject: string;
  readonly sessionId: string;
  /** The kind token after the session. */
  readonly kind: K;
  /** The variable name or module id the message is about (empty for a session's end and a session's snapshot). */
  readonly name: string;
  /** The decoded JSON payload. */
  readonly data: D;
}

/**
 * A session ended, on `<prefix>.v1.events.<sid>.session`: published once, by the node that removed it. `incarnation`
 * names the life that ended: a session opened again under the same id is another life.
 */
export interface SessionEndEvent {
  readonly sessionId: string;
  readonly incarnation: string;
  readonly reason: 'deleted' | 'expired';
}

/**
 * One message of the events feed: a variable change (`var`), a module's state change, result, failure, sync or delta
 * (`module`), or the session's end (`session`).
 * @example
 * switch (event.kind) {
 *   case 'var': console.log(event.name, event.data.newValue); break;
 *   case 'module': console.log(event.name, event.data.type); break;
 *   case 'session': console.log('ended', event.data.reason); break;
 * }
 */
export type TetherEvent =
  | TetherMessage<'var', VariableEvent>
  | TetherMessage<'module', ModuleEvent>
  | TetherMessage<'session', SessionEndEvent>;

/** One message of the inspect feed: a snapshot of a session process (`session`) or of a module process (`module`). */
export type InspectedEvent = TetherMessage<'session' | 'module', InspectedSnapshot>;
