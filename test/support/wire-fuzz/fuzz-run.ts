/**
 * A seeded run of the wire fuzzer against nodes serving the `tether` micro service: it sets up a session (a variable
 * of each type, a module), sends `count` fuzzed requests one by one (a burst of concurrent ones every 500), checks
 * every reply, applies the successes to a model, and compares the model with the nodes after every write.
 * @module
 */
import type { NatsConnection } from 'nats';
import { burst, type BurstContext } from './burst.js';
import { createDeviations } from './deviations.js';
import { checkEvents, recordEvents } from './event-checks.js';
import { fuzzRequest } from './fuzzed-request.js';
import { BASE_VARIABLES, createFuzzModel } from './model.js';
import { applySuccess, type ExpectedEvent } from './model-updates.js';
import { createRandom } from './random.js';
import { checkNoWriteByRefusal, checkReplyShape, checkValidationRefusal } from './reply-checks.js';
import { createOperations, pickOperation, sessionSubject } from './request-builders.js';
import { createStateChecks } from './state-checks.js';
import { createWireClient } from './wire-client.js';

/** Options of {@link runWireFuzz}. */
export interface WireFuzzOptions {
  /** A plain connection to the nodes' server, as a client in any language has. */
  readonly nc: NatsConnection;
  /** The service ids of the nodes (their outcome subjects are asked). */
  readonly nodeIds: readonly string[];
  readonly seed: number;
  /** Fuzzed requests to send one by one (bursts come on top). */
  readonly count: number;
  /** The page's error codes and their statuses (see test/support/protocol-doc.ts). */
  readonly documented: ReadonlyMap<string, number>;
  /** The bound on every reply. @default 15000 */
  readonly withinMs?: number;
}

/** Counts of a run, printed with it. */
export interface WireFuzzStats {
  sent: number;
  ok: number;
  noResponders: number;
  notices: number;
  /** Error replies by code. */
  readonly errors: Record<string, number>;
}

/** A finished run: what it found, and a check of the nodes' state that can be run again later. */
export interface WireFuzzRun {
  /** Each deviation from the protocol or the model, naming the request that showed it (at most 200). */
  readonly deviations: string[];
  readonly stats: WireFuzzStats;
  readonly elapsedMs: number;
  /** Compares the model with what the nodes serve now (e.g. with one of them stopped); adds any deviation. */
  checkState(after: string): Promise<void>;
}

/** Payloads above this the server refuses before any node sees them (its 1 MiB limit, less room for headers). */
const MAX_PAYLOAD = 1024 * 1024 - 1024;

/** Runs the fuzzer; resolves once every request is answered (or out of bound) and the state compared. */
export async function runWireFuzz(options: WireFuzzOptions): Promise<WireFuzzRun> {
  const { nc, seed, count, documented, withinMs = 15_000 } = options;
  const random = createRandom(seed);
  const model = createFuzzModel();
  const { sid } = model;
  const { list: deviations, report } = createDeviations();
  const client = createWireClient(nc, model);
  const state = createStateChecks(client, model, report);
  const operations = createOperations(random, model, options.nodeIds);
  const stats: WireFuzzStats = { sent: 0, ok: 0, noResponders: 0, notices: 0, errors: {} };

  // The session under test: a variable of each type, and a module bound to one that runs on the echo model.
  model.incarnations.set(sid, (await client.call(sessionSubject(sid, 'open'), {})).incarnation);
  for (const [name, type, value, constraints] of BASE_VARIABLES) {
    const record = await client.call(sessionSubject(sid, 'var.define'), {
      name,
      type,
      value,
      options: { constraints },
    });
    model.variables.set(name, { type, value: record.value, version: 1, id: record.id, lockedBy: null });
  }
  const spec = { type: 'Predict', signature: 'question:string -> answer:string', bindings: { temperature: 'f' } };
  await client.call(sessionSubject(sid, 'module.qa.create'), { spec }, true);
  model.modules.add('qa');
  const first = await client.call(sessionSubject(sid, 'module.qa.execute'), { inputs: { question: 'hi' } }, true);
  if (!String(first.output?.answer).includes('tether-echo')) throw new Error('the echo model did not answer');
  const events = await recordEvents(nc, sid);
  const burstContext: BurstContext = {
    random,
    model,
    operations,
    client,
    state,
    documented,
    withinMs,
    maxPayload: MAX_PAYLOAD,
    report,
  };

  const started = Date.now();
  try {
    for (let n = 0; n < count; n += 1) {
      if (n % 500 === 499) await burst(burstContext, n, 64);
      const operation = pickOperation(random, operations);
      const request = fuzzRequest(random, model, operation, n, MAX_PAYLOAD);
      if (!request) continue;
      const { label } = request;
      stats.sent += 1;
      events.clear();
      const reply = await client.send(request.subject, request.data, request.headers, withinMs);
      stats.notices += reply.notices;
      if (reply.kind === 'timeout') {
        report(`no reply within ${withinMs} ms: ${label}`);
        continue;
      }
      if (reply.kind === 'noresponders') {
        stats.noResponders += 1;
        if (!request.badId?.dotted) report(`no responders: ${label}`);
        continue;
      }
      if (reply.body === undefined) {
        report(`reply body is not JSON (${reply.size} bytes): ${label}`);
        continue;
      }
      const code = checkReplyShape(request, reply, documented, report);
      if (code) stats.errors[code] = (stats.errors[code] ?? 0) + 1;
      else stats.ok += 1;
      checkValidationRefusal(request, reply, code, report);
      checkNoWriteByRefusal(request, reply, code, report);

      const isOutcome = operation.name === 'outcome';
      const ok = !code && !isOutcome;
      const executionId = ok ? reply.body.result?.executionId : request.parsed?.executionId;
      if (operation.name === 'module.execute' && typeof executionId === 'string') model.executionIds.push(executionId);
      let expected: ExpectedEvent[] = [];
      if (ok && request.parsed && !request.badId) {
        const success = {
          operation: operation.name,
          sid: request.sid,
          sent: request.parsed,
          result: reply.body.result,
          headerMutated: request.headerMutated,
          label,
          ...(request.mid ? { mid: request.mid } : {}),
        };
        expected = applySuccess(model, success, report);
      }
      // Events come before the reply on the node's connection; the reply is in, so they are too.
      const deletedSession = ok && operation.name === 'delete';
      checkEvents(events, expected, { sid, label, deletedSession, countsCompared: !request.badId }, report);

      if (operation.write || n % 25 === 0) {
        await state.variables(label);
        if (operation.module || n % 25 === 0) await state.modules(label);
        if (operation.name === 'open' || operation.name === 'delete' || n % 25 === 0) await state.sessions(label);
      }
    }
  } finally {
    events.stop();
  }
  const elapsedMs = Date.now() - started;

  return {
    deviations,
    stats,
    elapsedMs,
    async checkState(after) {
      await state.variables(after);
      await state.modules(after);
      await state.sessions(after);
      const exported = await client.call(sessionSubject(sid, 'var.export'), {});
      if (!Array.isArray(exported)) report(`export is no array; after: ${after}`);
      if (model.modules.has('qa')) await client.call(sessionSubject(sid, 'module.qa.describe'), {}, true);
    },
  };
}
