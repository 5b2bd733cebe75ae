/**
 * Mutations outside the payload: request headers with values of the wrong form (or right form, wrong moment), and
 * session or module ids in the subject that the protocol refuses (wildcards, dots, white space, non-ASCII).
 * @module
 */
import type { FuzzRandom } from './random.js';

/** The request headers a client may send, spelt as docs/protocol.md spells them (and one in lower case). */
export const REQUEST_HEADER_NAMES = [
  'Tether-Min-Revision',
  'Tether-Min-Modules-Revision',
  'Tether-Incarnation',
  'Tether-Accept-Notice',
  'Tether-Deadline',
  'Tether-Search-Deadline',
  'tether-min-revision',
] as const;

/** Ids no session or module may have: a node must answer `validation_failed` (one with a dot may reach no one). */
export const BAD_IDS = [
  '*',
  '>',
  'a*',
  'é',
  'x'.repeat(129),
  'a.b',
  'a\u00a0',
  'a\u200b',
  'a\u000b',
  'a\u3000',
  'a\u000c',
];

/**
 * A header value to send: malformed numbers and deadlines, revisions ahead of the bucket, deadlines past or in
 * seconds, and incarnations of sessions that may have ended since.
 */
export function headerGarbage(random: FuzzRandom, revision: number, incarnations: Iterable<string>): string {
  const now = Date.now();
  return random.pick([
    '',
    'abc',
    '-1',
    '1.5',
    '1e3',
    '0x10',
    ' 7 ',
    '99999999999999999999',
    '9007199254740992',
    '9007199254740991',
    String(revision + 1000),
    '00000',
    String(revision),
    '😀',
    'x'.repeat(3000),
    'NaN',
    '1/1',
    `${now + 60_000}/60000`,
    `${now - 5_000}/1000`,
    `${Math.floor(now / 1000)}/1000`,
    `${now}`,
    '-1/-1',
    'NaN/NaN',
    '1e20/5',
    `${now + 60_000}/-5`,
    random.pick([...incarnations, '00000000-0000-0000-0000-000000000000']),
  ]);
}

/** A subject whose session or module id was replaced with one of {@link BAD_IDS}. */
export interface MutatedId {
  readonly subject: string;
  /** What was replaced, for the report: `session id '*'`. */
  readonly what: string;
  /** The bad id has a dot: the subject has more tokens, and may match no endpoint (no responders is then fine). */
  readonly dotted: boolean;
}

/**
 * Replaces the module id (when the subject has `mid`, half the time) or the session id `sid` of a session, module or
 * outcome subject with a bad id.
 */
export function mutateSubjectId(random: FuzzRandom, subject: string, sid: string, mid?: string): MutatedId {
  const bad = random.pick(BAD_IDS);
  const shown = `'${bad.slice(0, 20)}'`;
  const dotted = bad.includes('.');
  if (mid && random.chance(0.5)) {
    return { subject: subject.replace(`.module.${mid}.`, `.module.${bad}.`), what: `module id ${shown}`, dotted };
  }
  const replaced = subject.startsWith('tether.v1.node.')
    ? subject.replace(`.${sid}.module.`, `.${bad}.module.`)
    : subject.replace(`.session.${sid}.`, `.session.${bad}.`);
  return { subject: replaced, what: `session id ${shown}`, dotted };
}
