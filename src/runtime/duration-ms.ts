/**
 * The one reading of a duration given in process (a `Runtime.start` option, `execute`'s `timeoutMs`), so that one
 * value is read alike wherever it is given.
 * @module
 */
import { ValidationError } from '../errors.js';
import { show } from '../variables/failure.js';
import { MAX_TIMEOUT_MS } from './process-runtime-options.js';

/** How a refusal names the duration, and what its `details` add to `{ field }`. */
export interface DurationContext {
  /** The duration's name in the message. @default the field */
  readonly named?: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

/**
 * A duration read as `execute`'s `timeoutMs` is: over 0, a fraction rounded up (never shorter than asked), `Infinity`
 * for none. A `wait` (a call's, an execution's) is at most 2^31-1 ms, what a timer can wait; a `period` (a session's
 * time to live) is checked by sweeps, not one timer, and has no top.
 * @throws {ValidationError} (`details.field`: `field`) for anything else
 * @example
 * durationMs('callTimeoutMs', 2500.5, 'wait'); // 2501
 */
export function durationMs(
  field: string,
  value: unknown,
  kind: 'wait' | 'period',
  context: DurationContext = {},
): number {
  const top = kind === 'wait' ? MAX_TIMEOUT_MS : Number.MAX_VALUE;
  if (typeof value === 'number' && value > 0 && (value <= top || value === Number.POSITIVE_INFINITY))
    return Math.ceil(value);
  const range =
    kind === 'wait'
      ? `over 0 and at most ${MAX_TIMEOUT_MS}, or Infinity for no limit`
      : 'over 0, or Infinity for never';
  // Shown bounded, a string quoted: "5" must not read as 5.
  throw new ValidationError(`${context.named ?? field} must be a number of milliseconds ${range}; got ${show(value)}`, {
    details: { field, ...context.details },
  });
}
