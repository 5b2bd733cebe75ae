/**
 * What the server says when the permissions of a connection's user refuse it a publish or a subscription: nats.js
 * hands a refused subscription its error (and closes it), and tells a refused publish only as a connection status,
 * since a publish has nobody waiting on it. The connection stays up. A Tether client or subscriber refused what it
 * needs fails with `NatsConnectionError` (`refused`) naming the subject, at once, rather than wait for what can never
 * come (a reply to a request the server dropped, an event on a subscription it closed).
 * @module
 */
import { ErrorCode, NatsError } from 'nats';
import { NatsConnectionError } from '../errors.js';
import { messageOf } from '../printable.js';

/** A publish or a subscription the server refused. */
export interface PermissionRefusal {
  readonly operation: 'publish' | 'subscription';
  /** The subject refused. */
  readonly subject: string;
}

/** The refusal `error` carries, when it is nats.js's permissions violation. */
export function refusalOf(error: unknown): PermissionRefusal | undefined {
  if ((error as Partial<NatsError> | undefined)?.code !== ErrorCode.PermissionsViolation) return undefined;
  const context = (error as NatsError).permissionContext;
  if (context?.operation !== 'publish' && context?.operation !== 'subscription') return undefined;
  return { operation: context.operation, subject: context.subject };
}

/** The permissions violation of a refused publish to `subject`, as nats.js words the one it hands a request. */
export function publishRefusedError(subject: string): NatsError {
  const error = new NatsError(`Permissions Violation for Publish to "${subject}"`, ErrorCode.PermissionsViolation);
  error.permissionContext = { operation: 'publish', subject };
  return error;
}

/**
 * The permissions violation of a refused subscription to `subject`, as the server words it, for a refusal told only
 * as a connection status (see `serviceSubjectRefusals` in needed-subscription.ts).
 */
export function subscriptionRefusedError(subject: string): NatsError {
  const error = new NatsError(`Permissions Violation for Subscription to "${subject}"`, ErrorCode.PermissionsViolation);
  error.permissionContext = { operation: 'subscription', subject };
  return error;
}

/**
 * The `NatsConnectionError` (`refused`) of `what` (`events subscription`, `watch of '*' in session 'chat-1'`),
 * which the server refused as `error` says; `details` adds to `subject` and `operation`.
 */
export function refusedError(
  server: string,
  what: string,
  error: unknown,
  details: Record<string, unknown> = {},
): NatsConnectionError {
  const refusal = refusalOf(error);
  // The server quotes its own words ('Permissions Violation for Subscription to "x"'), nats.js keeps the quotes.
  const said = messageOf(error).replace(/^'(.*)'$/s, '$1');
  return new NatsConnectionError('refused', server, `${what}: ${said}`, {
    cause: error,
    details: { ...(refusal ? { subject: refusal.subject, operation: refusal.operation } : {}), ...details },
  });
}
