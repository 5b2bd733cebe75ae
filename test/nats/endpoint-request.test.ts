import { headers } from 'nats';
import { describe, expect, it } from 'vitest';
import { NodeStoppingError } from '../../src/index.js';
import type { AcceptanceNotices } from '../../src/nats/acceptance-notices.js';
import { createEndpointRequests } from '../../src/nats/endpoint-request.js';
import { createExecutionReplies } from '../../src/nats/execution-replies.js';
import { RequestEnding } from '../../src/nats/request-ending.js';
import type { ServiceEndpoint, ServiceRequest } from '../../src/nats/service-endpoint.js';
import type { TrackingStore } from '../../src/nats/tracking-store.js';
import { decodeReply } from '../../src/nats/wire.js';

const subject = 'tether.v1.session.s.module.m.execute';

describe('endpoint request', () => {
  it('does not start the work of a request its stopping node answered while it waited for the revision', async () => {
    // A node that has applied revision 4: a request carrying 5 waits until the test says the router got there.
    let applied!: (reached: boolean) => void;
    const store = {
      appliedRevision: 4,
      highestRevision: 5,
      waitForRevision: () => new Promise<boolean>((resolve) => (applied = resolve)),
    } as unknown as TrackingStore;
    const serve = createEndpointRequests({
      store,
      modules: undefined,
      maxBytes: 1_000_000,
      waitMs: 2000,
      replies: createExecutionReplies(),
      notices: { accepted: () => undefined } as unknown as AcceptanceNotices,
    });
    const started: string[] = [];
    const endpoint: ServiceEndpoint = {
      name: 'module-execute',
      subject,
      prepare: (_subject, body) => async () => {
        started.push(String(body.executionId));
        return { output: 'done' };
      },
    };
    const request = (executionId: string): ServiceRequest => {
      const h = headers();
      h.set('Tether-Min-Revision', '5');
      return { subject, data: new TextEncoder().encode(JSON.stringify({ executionId })), headers: h } as ServiceRequest;
    };

    const ending = new RequestEnding();
    const ended = serve(request('e-1'), endpoint, ending);
    const stopping = new NodeStoppingError('node-1', subject);
    ending.end(stopping);
    applied(true);
    await expect(ended).rejects.toBe(stopping);
    expect(started).toEqual([]);

    // Not ended, the same request runs once the revision is applied.
    const served = serve(request('e-2'), endpoint, new RequestEnding());
    applied(true);
    expect(decodeReply((await served) as Uint8Array)).toMatchObject({ ok: true, result: { output: 'done' } });
    expect(started).toEqual(['e-2']);
  });
});
