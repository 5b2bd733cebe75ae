import { describe, expect, it } from 'vitest';
import { openIfAccepted } from '../src/cli/open-if-accepted.js';
import {
  CallTimeoutError,
  InternalError,
  PayloadTooLargeError,
  SessionError,
  StoreLimitError,
  ValidationError,
  type BridgeError,
} from '../src/errors.js';
import type { TetherClient } from '../src/nats/remote-client.js';
import type { RemoteSession } from '../src/nats/remote-session.js';

/** The handle an open gave, holding `variables` variables; `deleted` counts its `delete()` calls. */
function fakeSession(options: { created?: boolean; variables?: number } = {}) {
  const calls = { deleted: 0 };
  const session = {
    sessionId: 's1',
    created: options.created ?? false,
    listVariables: async () => Array.from({ length: options.variables ?? 0 }, () => ({})),
    modules: async () => [],
    delete: async () => void (calls.deleted += 1),
  } as unknown as RemoteSession;
  return { session, calls };
}

/** `openIfAccepted` on a session that is not there, opened as `opened`, whose second write fails with `refusal`. */
async function refusedAfterOpen(opened: RemoteSession, refusal: BridgeError): Promise<unknown> {
  const unopened = { sessionId: 's1', created: false } as unknown as RemoteSession;
  const client = { session: async () => opened } as unknown as TetherClient;
  let writes = 0;
  return openIfAccepted(client, unopened, async () => {
    writes += 1;
    throw writes === 1 ? new SessionError('session_not_found', 's1') : refusal;
  }).catch((error: unknown) => error);
}

const full = new StoreLimitError('vars', 's1.x', 'put', 'storage');

// Found by a review: a write refused after the command opened its session (a full account) left that session behind.
describe('cli open if accepted', () => {
  it('removes the session it created when the write after the open applied nothing', async () => {
    for (const refusal of [full, new ValidationError('x: too big')]) {
      const { session, calls } = fakeSession({ created: true });
      expect(await refusedAfterOpen(session, refusal)).toBe(refusal);
      expect(calls.deleted).toBe(1);
    }
  });

  it('keeps the session when its open did not create it, when it holds something, or when the write may land', async () => {
    const someoneElses = fakeSession({ created: false });
    const written = fakeSession({ created: true, variables: 1 });
    const unknown = new CallTimeoutError('s1', 5000, { details: { outcome: 'unknown' } });
    const mayLand = fakeSession({ created: true });
    expect(await refusedAfterOpen(someoneElses.session, full)).toBe(full);
    expect(await refusedAfterOpen(written.session, full)).toBe(full);
    expect(await refusedAfterOpen(mayLand.session, unknown)).toBe(unknown);
    expect([someoneElses.calls.deleted, written.calls.deleted, mayLand.calls.deleted]).toEqual([0, 0, 0]);
    // Failures that may come after the work was done, with no outcome said (found by mutation: either could be taken
    // as a refusal with every test passing): the write may be there.
    for (const late of [
      new InternalError('the store failed after the put'),
      new PayloadTooLargeError("reply to var.define of session 's1'", 2_000_000, 1_048_576),
    ]) {
      const opened = fakeSession({ created: true });
      expect(await refusedAfterOpen(opened.session, late)).toBe(late);
      expect(opened.calls.deleted, late.code).toBe(0);
    }
  });
});
