import { messageOf, printable } from '../printable.js';
/**
 * Why a process exited, mirroring Elixir's exit reasons, and the rules that read them: which reasons travel
 * along links, which ones make a `transient` child restart, and how a reason reads in an error message.
 * @module
 */

/**
 * Why a process exited.
 * - `'normal'`: the logic finished (an XState machine reached a final state).
 * - `'shutdown'` or any other string: the reason given to `stop` (default `'shutdown'`), exactly as given. `stop`
 *   mirrors `GenServer.stop(pid, reason)` (`proc_lib:stop/3`), not `Process.exit(pid, reason)`: the process runs its
 *   cleanup (a callback actor's and its child actors'; XState runs no exit actions on a stop) and exits with that
 *   reason, `'kill'` included, which its monitors and links hear as it is (a link passes it on as any other abnormal
 *   reason). There is no untrappable kill, so no `'killed'` either.
 * - `'noproc'`: only in a DOWN notice, when the monitored target was not alive to begin with.
 * - `{ error }`: the process crashed; `error` is what its logic threw.
 * - `{ linked, reason }`: the process was stopped because the process `linked` exited with `reason`; a process it
 *   takes down in turn gets the same `reason` (as in Erlang) with `linked` naming it.
 * - `{ shutdown }`: a shutdown with extra context (OTP's `{shutdown, term}`); treated like `'shutdown'`.
 */
export type ExitReason =
  | 'normal'
  | 'shutdown'
  | 'noproc'
  // `string & {}` keeps the literals above visible to editors while allowing any custom reason.
  | (string & {})
  | { readonly error: unknown }
  | { readonly linked: string; readonly reason: ExitReason }
  | { readonly shutdown: unknown };

/**
 * The reason a process taken down by a link exits with, the process `linked` having exited with `reason`: the reason
 * that started it all, as in Erlang, so that a chain of links nests no deeper than one link.
 */
export function linkedExit(linked: string, reason: ExitReason): ExitReason {
  return { linked, reason: typeof reason === 'object' && 'linked' in reason ? reason.reason : reason };
}

/** True when the process crashed: its logic threw. */
export function isCrash(reason: ExitReason): reason is { readonly error: unknown } {
  return typeof reason === 'object' && 'error' in reason;
}

/**
 * True unless the reason is `'normal'`. As in Erlang, every other reason (including `'shutdown'`) travels
 * along links and stops the linked process.
 */
export function isAbnormal(reason: ExitReason): boolean {
  return reason !== 'normal';
}

/**
 * True when a `transient` child should be restarted. OTP does not count `normal`, `shutdown` and
 * `{shutdown, term}` as failures, so a transient child that was told to stop stays stopped. A process that a
 * link took down is judged by the reason that came along it: in Erlang it exits with that very reason.
 */
export function isFailure(reason: ExitReason): boolean {
  if (reason === 'normal' || reason === 'shutdown') return false;
  if (typeof reason !== 'object') return true;
  if ('linked' in reason) return isFailure(reason.reason);
  return !('shutdown' in reason);
}

/** The error behind a crash, following links back to the process that crashed first. */
export function crashErrorOf(reason: ExitReason): unknown {
  if (typeof reason !== 'object') return undefined;
  if ('error' in reason) return reason.error;
  if ('linked' in reason) return crashErrorOf(reason.reason);
  return undefined;
}

/** A one-line reading of a reason for messages: `normal`, `crash: boom`, `linked <0.3> exited: crash: boom`. */
export function formatExitReason(reason: ExitReason): string {
  if (typeof reason === 'string') return reason;
  if ('error' in reason) {
    const { error } = reason;
    return `crash: ${messageOf(error)}`;
  }
  if ('linked' in reason) return `linked ${reason.linked} exited: ${formatExitReason(reason.reason)}`;
  return `shutdown: ${printable(reason.shutdown)}`;
}
