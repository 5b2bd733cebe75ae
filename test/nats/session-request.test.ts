import { afterEach, describe, expect, it } from 'vitest';
import { Runtime } from '../../src/index.js';
import type { ServiceRequest } from '../../src/nats/service-endpoint.js';
import { createSessionRequests } from '../../src/nats/session-request.js';
import { createSubjects } from '../../src/nats/subjects.js';
import type { TrackingStore } from '../../src/nats/tracking-store.js';
import { decodeReply } from '../../src/nats/wire.js';
import { waitFor } from '../support/wait-for.js';

const enc = new TextEncoder();
let runtime: Runtime | undefined;

afterEach(async () => {
  await runtime?.stop();
  runtime = undefined;
});

describe('session request', () => {
  it("replies to a write only once its event is queued, when the write's old value is still being looked up", async () => {
    runtime = await Runtime.start({ onError: () => {} });
    const session = await runtime.session('s');
    await session.defineVariable('x', 'integer', 1);
    // A node store whose history lookup of the value the write replaced is under way: the event waits for it.
    let settle!: () => void;
    const lookup = new Promise<void>((resolve) => (settle = resolve));
    const store = { highestRevision: 7, settled: () => lookup } as unknown as TrackingStore;
    const started = runtime;
    const serve = createSessionRequests({
      provider: { session: (id, options) => started.session(id, options) },
      store,
      subjects: createSubjects(),
      maxBytes: 1_000_000,
      awaitRevision: () => undefined,
      replyLimit: () => 1_048_576,
    });
    const request = { subject: 'tether.v1.session.s.var.set', data: enc.encode('{"name":"x","value":2}') };
    let replied = false;
    const reply = serve(request as ServiceRequest, 'set').then((bytes) => {
      replied = true;
      return bytes;
    });

    await waitFor(async () => (await session.getVariable('x')) === 2);
    await new Promise((resolve) => setImmediate(resolve));
    expect(replied).toBe(false);
    settle();
    const decoded = decodeReply(await reply);
    expect(decoded).toMatchObject({ ok: true, revision: 7, result: { name: 'x', value: 2, version: 2 } });
  });
});
