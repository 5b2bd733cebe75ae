/**
 * A module `create` whose session is not there (never opened, deleted, expired), naming no life of it (see
 * `sessionNotThere`), is judged as the first module of a new, empty session: a spec that would be refused there gets
 * its own error (a bound variable missing, an unknown type, a signature Ax refuses) rather than `session_not_found`,
 * so that `session_not_found` to a create says it would be accepted once the session is opened, as for a `define`
 * (define-judgement.ts). The CLI's `module create` relies on it to open the session only for a module it can create.
 * @module
 */
import type { MsgHdrs } from 'nats';
import type { ModuleHost } from './module-host.js';
import { parseWireSpec } from './module-wire-spec.js';
import { requirePresent } from './request-fields.js';
import { lifeOf, sessionNotThere } from './session-of-life.js';
import type { RequestBody } from './wire.js';

/**
 * `work`, the create of module `moduleId` in session `sessionId` from `body` (its spec checked already), with its
 * spec judged by `host` against an empty session when it fails for its session not being there (`headers` name no
 * life: see `sessionNotThere`).
 * @example
 * const create = operations.create(sessionId, moduleId, body, headers);
 * const work = judgedCreate(create, host, sessionId, moduleId, body, headers);
 */
export function judgedCreate(
  work: () => Promise<unknown>,
  host: Pick<ModuleHost, 'judgeCreate'>,
  sessionId: string,
  moduleId: string,
  body: RequestBody,
  headers: MsgHdrs | undefined,
): () => Promise<unknown> {
  return async () => {
    try {
      return await work();
    } catch (error) {
      if (sessionNotThere(error, lifeOf(headers)))
        await host.judgeCreate(sessionId, moduleId, parseWireSpec(requirePresent(body, 'spec')));
      throw error;
    }
  };
}
