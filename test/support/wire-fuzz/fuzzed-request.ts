/**
 * One fuzzed request: a well-formed request of an operation, then (by chance) tagged, mutated in its tree, broken in
 * its bytes, sent to a bad id, or given a garbage header, and described in one line for the report.
 * @module
 */
import { headerGarbage, mutateSubjectId, REQUEST_HEADER_NAMES, type MutatedId } from './headers-and-ids.js';
import { parseObject, serialize } from './json-text.js';
import { standardHeaders, type FuzzModel } from './model.js';
import { mutatePayload } from './payload-mutation.js';
import type { FuzzRandom } from './random.js';
import { RAW_MODES, rawPayload, type RawMode } from './raw-payloads.js';
import type { SentRequest } from './reply-checks.js';
import type { FuzzOperation } from './request-builders.js';

/** A request ready to send, with what the checks need to know of it. */
export interface FuzzedRequest extends SentRequest {
  readonly data: Uint8Array;
  readonly headers: [string, string][];
  /** The session and module ids of the subject before any id mutation (the model's names). */
  readonly sid: string;
  readonly mid?: string;
}

const encoder = new TextEncoder();

/** Builds request number `n` of `operation`; `undefined` when it came out larger than `maxPayload`. */
export function fuzzRequest(
  random: FuzzRandom,
  model: FuzzModel,
  operation: FuzzOperation,
  n: number,
  maxPayload: number,
): FuzzedRequest | undefined {
  const target = operation.target();
  let body: unknown = operation.body();
  const did: string[] = [];
  let rawMode: RawMode | undefined;
  const mutate = () => {
    const [mutated, what] = mutatePayload(random, body);
    body = mutated;
    did.push(what);
  };
  const roll = random.next();
  if (operation.name.startsWith('var.') && random.chance(0.1)) {
    (body as Record<string, unknown>).tagged = true;
    did.push('tagged');
    if (random.chance(0.7)) mutate();
  } else if (roll < 0.12) {
    // Sent as built: the model must follow the successes, and the refusals must be the documented ones.
  } else if (roll < 0.2) {
    rawMode = random.pick(RAW_MODES);
  } else {
    const times = random.chance(0.7) ? 1 : 2 + random.int(2);
    for (let i = 0; i < times; i += 1) mutate();
  }

  let subject = target.subject;
  let badId: MutatedId | undefined;
  if (random.chance(0.04) && target.sid) {
    badId = mutateSubjectId(random, subject, target.sid, target.mid);
    subject = badId.subject;
  }

  const headers = standardHeaders(model, operation.module);
  if (operation.write && random.chance(0.3))
    headers.push(['Tether-Incarnation', model.incarnations.get(target.sid) ?? '']);
  const headerMutated = random.chance(0.15);
  if (headerMutated) {
    const name = random.pick(REQUEST_HEADER_NAMES);
    const value = headerGarbage(random, model.revision, model.incarnations.values());
    const at = headers.findIndex(([k]) => k === name);
    if (at >= 0 && random.chance(0.5)) headers[at] = [name, value];
    else headers.push([name, value]);
    did.push(`header ${name}=${value.slice(0, 40)}`);
  }

  const written = serialize(body);
  const { data, text } = rawMode
    ? rawPayload(random, rawMode, written)
    : { data: encoder.encode(written), text: written };
  if (data.length > maxPayload) return undefined;
  const shownText = text.length > 300 ? `${text.slice(0, 300)}…(${text.length})` : text;
  const shownHeaders = JSON.stringify(headers.map(([k, v]) => [k, v.slice(0, 40)]));
  return {
    operation: operation.name,
    subject,
    text,
    parsed: parseObject(text),
    ...(rawMode ? { rawMode } : {}),
    ...(badId ? { badId } : {}),
    headerMutated,
    revisionBefore: model.revision,
    label: `#${n} ${subject.slice(0, 100)} ${shownText} [${rawMode ?? did.join(' | ')}] headers=${shownHeaders}`,
    data,
    headers,
    sid: target.sid,
    ...(target.mid ? { mid: target.mid } : {}),
  };
}
