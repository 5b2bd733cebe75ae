/**
 * The start of a remote session handle's watch (see remote-watch.ts for the watch itself): bound to the handle's
 * scope, whose stop ends it, and failing as the handle's requests fail once its client closed or NATS was given up on.
 * @module
 */
import { BridgeError, NatsConnectionError } from '../errors.js';
import type { Unwatch, VariableListener, WatchVariablesOptions } from '../session/session-context.js';
import type { RemoteTransport } from './remote-transport.js';
import { watchRemote, type WatchReads } from './remote-watch.js';
import type { SessionHandleScope } from './session-handle-scope.js';

/**
 * Starts `RemoteSession.watchVariables`'s watch of `pattern` in the session of `scope`, reading through `reads`. A
 * stop of the handle that overtakes the start ends the watch there, its listener hearing nothing, and this rejects
 * with the stopped handle's `SessionError`.
 */
export async function watchSession(
  transport: RemoteTransport,
  scope: SessionHandleScope,
  pattern: string,
  listener: VariableListener,
  options: WatchVariablesOptions,
  reads: WatchReads,
): Promise<Unwatch> {
  const unwatch = await watchRemote(
    transport,
    scope.sessionId,
    scope.incarnation,
    pattern,
    listener,
    options,
    reads,
    // Tracked from the start, so that a stop while the start read is under way ends the watch there; the watch
    // leaves the handle's list as it ends, by its unwatch or by itself.
    (end) => scope.track(end),
  ).catch((error: unknown) => {
    throw watchFailure(transport, scope, error);
  });
  // The stop came while the watch started: it ended then, and its listener heard nothing of the start.
  if (scope.stopped) throw scope.stoppedError();
  return unwatch;
}

/**
 * What a watch that could not start rejects with. Its subscriptions are nats.js's own calls, which on a closed
 * connection throw nats.js's error: the caller gets the closed client's error (`close()` called meanwhile), or
 * `NatsConnectionError` (`closed`) when NATS was given up on, as a request would.
 */
function watchFailure(transport: RemoteTransport, scope: SessionHandleScope, error: unknown): unknown {
  if (error instanceof BridgeError || !transport.connection.isClosed()) return error;
  // Closed by its `close()`: this throws the error every call of the client gets then.
  scope.assertClientOpen();
  const server = transport.connection.getServer();
  return new NatsConnectionError('closed', server, `watch of session '${scope.sessionId}' not started`, {
    cause: error,
  });
}
