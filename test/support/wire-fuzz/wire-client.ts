/**
 * The fuzzer's side of the wire: requests sent as raw bytes (see `rawAnswer`), their replies read the way a client
 * in another language reads them (JSON body, micro error headers), and the model's revisions raised by each reply.
 * @module
 */
import type { NatsConnection } from 'nats';
import { rawAnswer } from '../raw-request.js';
import { serialize } from './json-text.js';
import { noteRevisions, standardHeaders, type FuzzModel } from './model.js';

/** A reply as the checks see it. */
export interface FuzzReply {
  readonly kind: 'reply' | 'noresponders' | 'timeout';
  /** Acceptance notices that came before it. */
  readonly notices: number;
  /** `Nats-Service-Error-Code`: the status, on an error reply. */
  readonly status?: string;
  /** `Nats-Service-Error`: `<code>: <message>`, on an error reply. */
  readonly errorHeader?: string;
  /** `Tether-Execution-Outcome`, on an outcome answer. */
  readonly outcome?: string;
  /** The JSON body, `undefined` when the bytes are no UTF-8 JSON. */
  readonly body?: any;
  readonly size: number;
}

/** Sends requests for the fuzzer. */
export interface WireClient {
  /** Sends these bytes and headers; the reply within `withinMs` (or why none), the model's revisions raised by it. */
  send(subject: string, data: Uint8Array, headers: readonly [string, string][], withinMs: number): Promise<FuzzReply>;
  /** A well-formed request with the model's revision headers; its `result`, or a throw on anything but a success. */
  call(subject: string, body: unknown, module?: boolean): Promise<any>;
}

/** The reply bound of the well-formed requests that set up and check the state. */
const CALL_WITHIN_MS = 15_000;

const decoder = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();

/** A client on `nc` keeping `model`'s revisions. */
export function createWireClient(nc: NatsConnection, model: FuzzModel): WireClient {
  const send: WireClient['send'] = async (subject, data, headers, withinMs) => {
    const answer = await rawAnswer(nc, subject, data, headers, withinMs);
    if (answer.kind !== 'reply') return { kind: answer.kind, notices: answer.notices, size: 0 };
    const { msg } = answer;
    let body: unknown;
    try {
      body = JSON.parse(decoder.decode(msg.data));
    } catch {
      body = undefined;
    }
    noteRevisions(model, body);
    const header = (name: string) => msg.headers?.get(name) || undefined;
    return {
      kind: 'reply',
      notices: answer.notices,
      body,
      size: msg.data.length,
      ...optional('status', header('Nats-Service-Error-Code')),
      ...optional('errorHeader', header('Nats-Service-Error')),
      ...optional('outcome', header('Tether-Execution-Outcome')),
    };
  };
  return {
    send,
    async call(subject, body, module = false) {
      const text = serialize(body);
      const reply = await send(subject, encoder.encode(text), standardHeaders(model, module), CALL_WITHIN_MS);
      if (reply.kind !== 'reply' || reply.status) {
        const got = JSON.stringify(reply.body)?.slice(0, 300);
        throw new Error(`${subject} ${text.slice(0, 200)} → ${reply.kind} ${reply.status ?? ''} ${got}`);
      }
      return reply.body.result;
    },
  };
}

/** `{ [key]: value }`, or `{}` when there is no value (exactOptionalPropertyTypes forbids an explicit undefined). */
function optional<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return value === undefined ? {} : ({ [key]: value } as { [P in K]: string });
}
