/**
 * The order in which a session call's mistakes are reported: a stopped handle says so first, then a bad argument,
 * and only then that the session is gone (deleted, or expired). A remote handle reports them in that order by its
 * nature: its client refuses a stopped handle's call before anything else, and its node checks a request's fields
 * before it looks the session up. An embedded handle keeps the same order through {@link argumentsBeforeGone},
 * without paying for the checks on the path where the session is there (where each check runs where it always did).
 * @module
 */
import { isSessionGone } from '../errors.js';

/**
 * `work`'s value; when it fails because the session is gone, `judge` runs first and throws the argument's error if
 * there is one. Any other failure (a stopped handle's `session_stopped` included) is reported as it is.
 */
export async function argumentsBeforeGone<T>(work: T | Promise<T>, judge: () => void): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (isSessionGone(error)) judge();
    throw error;
  }
}
