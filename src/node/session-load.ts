/**
 * When a session process is ready to be handed out: it has loaded its variables and, on a NATS node, the record
 * read alongside the load has said which life of the id it serves. A load that failed, or a record found gone
 * (deleted while this node was not told), gives the caller an error instead, and the process does not stay.
 * @module
 */
import { waitFor } from 'xstate';
import type { SessionMachineContext } from '../../machines/session.machine.js';
import { SessionError, errorFromJSON } from '../errors.js';
import type { ProcessRef } from '../runtime/process.js';
import type { ProcessRuntime } from '../runtime/process-runtime.js';
import type { SessionProcess } from '../session/session-host.js';
import type { SessionLogic } from '../session/session-logic.js';

/**
 * Resolves to what `loaded` makes of the life read (`current`: on a NATS node, the record's incarnation,
 * `undefined` when there is no record), once `process` has loaded the variables of session `id`. Rejects with the
 * load's failure; with `current`'s error (the process is stopped); with `SessionError('session_not_found')` when
 * the record is gone (the process ends as deleted).
 */
export function whenLoaded(
  id: string,
  process: ProcessRef<SessionLogic>,
  processes: ProcessRuntime,
  current: Promise<string | undefined> | undefined,
  loaded: (incarnation: string | undefined) => SessionProcess,
): Promise<SessionProcess> {
  return waitFor(process.actor, (snapshot) => snapshot.status !== 'active' || !snapshot.matches('loading'), {
    timeout: Infinity,
  }).then(async (snapshot) => {
    if (snapshot.matches('failed'))
      throw errorFromJSON(
        (snapshot.context as SessionMachineContext).failure ?? {
          code: 'internal_error',
          message: `session '${id}' failed to load`,
        },
      );
    const incarnation = await current?.catch((error: unknown) => {
      processes.cast(process, { type: 'stop' });
      throw error;
    });
    if (current && incarnation === undefined) {
      // Nothing of it is left: the process ends as deleted, and takes what this node had of it along.
      process.actor.send(Object.freeze({ type: 'session.end', reason: 'deleted' }));
      throw new SessionError('session_not_found', id);
    }
    return loaded(incarnation);
  });
}
