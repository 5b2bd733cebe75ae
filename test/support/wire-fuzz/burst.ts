/**
 * Concurrent requests, mutated or not, many at once: each must still be answered within the bound with a reply the
 * page documents. Their order at the node is unknown, so the model is not applied but taken from the nodes after.
 * @module
 */
import type { Report } from './deviations.js';
import { headerGarbage, REQUEST_HEADER_NAMES } from './headers-and-ids.js';
import { serialize } from './json-text.js';
import { standardHeaders, type FuzzModel } from './model.js';
import { mutatePayload } from './payload-mutation.js';
import type { FuzzRandom } from './random.js';
import { pickOperation, type FuzzOperation } from './request-builders.js';
import type { StateChecks } from './state-checks.js';
import type { WireClient } from './wire-client.js';

/** What a burst needs of the run. */
export interface BurstContext {
  readonly random: FuzzRandom;
  readonly model: FuzzModel;
  readonly operations: readonly FuzzOperation[];
  readonly client: WireClient;
  readonly state: StateChecks;
  /** The page's error codes and their statuses. */
  readonly documented: ReadonlyMap<string, number>;
  /** The bound on each reply (ms). */
  readonly withinMs: number;
  /** The largest payload a node can receive: the server refuses larger ones before any node sees them. */
  readonly maxPayload: number;
  readonly report: Report;
}

const encoder = new TextEncoder();

/** Sends `size` requests at once (as request number `n` of the run), checks each reply, then resyncs the model. */
export async function burst(context: BurstContext, n: number, size: number): Promise<void> {
  const { random, model, client, documented, report } = context;
  const jobs = Array.from({ length: size }, async (_, k) => {
    const operation = pickOperation(random, context.operations);
    // A cancel may stop an execution another request of the burst waits for: its outcome is not this test's.
    if (operation.name === 'module.cancel') return;
    const { subject } = operation.target();
    let body: unknown = operation.body();
    if (random.chance(0.6)) body = mutatePayload(random, body)[0];
    const headers = standardHeaders(model, operation.module);
    if (random.chance(0.1)) {
      headers.push([
        random.pick(REQUEST_HEADER_NAMES),
        headerGarbage(random, model.revision, model.incarnations.values()),
      ]);
    }
    const text = serialize(body);
    const data = encoder.encode(text);
    if (data.length > context.maxPayload) return;
    const reply = await client.send(subject, data, headers, context.withinMs);
    const label = `burst@${n}.${k} ${subject} ${text.slice(0, 200)}`;
    if (reply.kind === 'timeout') return report(`no reply within ${context.withinMs} ms: ${label}`);
    if (reply.kind === 'noresponders') return report(`no responders: ${label}`);
    if (reply.body === undefined) return report(`reply not JSON: ${label}`);
    if (reply.status) {
      const code = reply.body?.error?.code;
      if (String(documented.get(code)) !== reply.status) report(`undocumented ${code}/${reply.status}: ${label}`);
      if (code === 'internal_error' || code === 'bridge_error') report(`${code} ${reply.body.error.message}: ${label}`);
    } else if (!subject.startsWith('tether.v1.node.') && !('result' in reply.body)) {
      report(`no result: ${label}`);
    }
  });
  await Promise.all(jobs);
  await context.state.resync();
}
