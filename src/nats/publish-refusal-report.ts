/**
 * Telling a node's `onError` of the publishes its NATS user's permissions refuse. An event, a control message or a
 * reply is published with nobody waiting on it, and the server drops a refused one, saying so only on the connection
 * (nats.js hands it out as a connection status, see connection-link.ts): a node refused `<prefix>.v1.events.>` wrote
 * every value while every watcher elsewhere heard nothing, and nobody was told. Each refused subject is told once, not
 * once per message, as the same subject is refused again at each publish; a refused request is also told to its
 * caller (permission-refusal.ts), this is the operator's side.
 * @module
 */
import type { NatsConnectionError } from '../errors.js';
import type { ConnectionLink } from './connection-link.js';
import { publishRefusedError, refusedError } from './permission-refusal.js';
import { toldOnce } from './told-once.js';

/**
 * How many refused subjects are remembered as told. Subjects carry ids (a session's, a variable's), so a node refused
 * its events meets a new one with each variable: past this many, the longest remembered is forgotten (and told again
 * should it be refused again), which keeps the memory bounded and the reports at one per subject in a while.
 */
export const TOLD_SUBJECTS_MAX = 256;

/**
 * Tells `report` (as `where` `nats`) a `NatsConnectionError` (`refused`, `details.subject`) for each subject the
 * server refuses `link`'s connection a publish to, once per subject (see {@link TOLD_SUBJECTS_MAX}). `server` names
 * the server the connection is on, as at the refusal. Returns what stops telling.
 */
export function reportPublishRefusals(
  link: ConnectionLink,
  server: () => string,
  report: (error: NatsConnectionError, where: string) => void,
): () => void {
  const first = toldOnce(TOLD_SUBJECTS_MAX);
  return link.onPublishRefused(({ subject }) => {
    if (!first(subject)) return;
    const what = `publish to ${subject} dropped by the server (told once per subject)`;
    report(refusedError(server(), what, publishRefusedError(subject)), 'nats');
  });
}
