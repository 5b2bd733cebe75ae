/**
 * A streamed answer with an event that is not JSON (a chunk garbled or cut by a proxy). Ax skips such an event: it
 * prints the event's raw text to the process's output (`console.log`, the user's data in a service's logs) and goes
 * on with the rest of the stream, whose text it then gives as the whole answer, a wrong answer given as a result.
 * Such a stream fails instead with {@link MalformedStreamEventError}, a `SyntaxError` as Ax's own parse of a body
 * that is not JSON is, which provider-errors.ts reports as `provider_unavailable` (`malformed_response`), before Ax
 * sees the event.
 *
 * Events are read as Ax's parser reads them (the event-stream format): lines end at `\r\n`, `\n` or `\r`; a line
 * starting with `:` is a comment; an event's `data:` lines (one space after the colon dropped) are joined with `\n`
 * and end at an empty line, or at the stream's end; `[DONE]` ends the stream, and nothing after it is read.
 * @module
 */
import { withBody } from './response-body.js';

/** How much of the event the error quotes. */
const QUOTED = 200;

/** A streamed answer's event that is not JSON (see the module comment). */
export class MalformedStreamEventError extends SyntaxError {
  constructor(data: string) {
    const quoted = data.length > QUOTED ? `${data.slice(0, QUOTED - 1)}…` : data;
    super(`the provider's answer stream carried an event that is not JSON: ${quoted}`);
    this.name = 'MalformedStreamEventError';
  }
}

/** `fetch`, with each event stream it returns failing with {@link MalformedStreamEventError} at an event not JSON. */
export function fetchRefusingMalformedEvents(fetch: typeof globalThis.fetch = globalThis.fetch) {
  return async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]): Promise<Response> => {
    const response = await fetch(input, init);
    if (!response.body || !response.headers.get('content-type')?.includes('text/event-stream')) return response;
    const events = new EventChecker();
    const checked = response.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          const malformed = events.read(chunk);
          if (malformed === undefined) controller.enqueue(chunk);
          else controller.error(new MalformedStreamEventError(malformed));
        },
        flush(controller) {
          const malformed = events.end();
          if (malformed !== undefined) controller.error(new MalformedStreamEventError(malformed));
        },
      }),
    );
    return withBody(response, checked);
  };
}

/** Reads an event stream's bytes as they come and tells the data of the first event that is not JSON. */
class EventChecker {
  readonly #decoder = new TextDecoder();
  /** The text after the last complete line. */
  #pending = '';
  #data: string[] = [];
  /** `[DONE]` was read: Ax reads nothing after it, so neither does this. */
  #done = false;

  /** Reads `chunk`; the data of an event in it that is not JSON, `undefined` when there is none. */
  read(chunk: Uint8Array): string | undefined {
    if (this.#done) return undefined;
    let text = this.#pending + this.#decoder.decode(chunk, { stream: true });
    // A `\r` at the end may be the first half of a `\r\n`: it waits for the next chunk.
    const heldReturn = text.endsWith('\r');
    if (heldReturn) text = text.slice(0, -1);
    const lines = text.split(/\r\n|\r|\n/);
    this.#pending = lines.pop()! + (heldReturn ? '\r' : '');
    for (const line of lines) {
      const malformed = line === '' ? this.#endEvent() : this.#readLine(line);
      if (malformed !== undefined || this.#done) return malformed;
    }
    return undefined;
  }

  /** The stream ended: the data of its last event when that is not JSON. */
  end(): string | undefined {
    if (this.#done) return undefined;
    const last = (this.#pending + this.#decoder.decode()).replace(/\r$/, '');
    if (last !== '') this.#readLine(last);
    return this.#endEvent();
  }

  #readLine(line: string): undefined {
    if (!line.startsWith('data:') && line !== 'data') return undefined;
    const value = line.slice(5);
    this.#data.push(value.startsWith(' ') ? value.slice(1) : value);
    return undefined;
  }

  #endEvent(): string | undefined {
    if (this.#data.length === 0) return undefined;
    const data = this.#data.join('\n');
    this.#data = [];
    if (data.trim() === '[DONE]') {
      this.#done = true;
      return undefined;
    }
    try {
      JSON.parse(data);
      return undefined;
    } catch {
      return data;
    }
  }
}
