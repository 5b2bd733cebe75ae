/**
 * The events of a provider's event stream (`text/event-stream`), read from its bytes as they come, as Ax's parser
 * reads them: lines end at `\r\n`, `\n` or `\r`; a line starting with `:` is a comment; an event's `data:` lines (one
 * space after the colon dropped) are joined with `\n`, its `event:` line names its type, and it ends at an empty line
 * or at the stream's end. What the checks of an answer stream read (answer-stream-check.ts), so that they judge the
 * events Ax will parse, never text inside one.
 * @module
 */

/** One event of an event stream. */
export interface StreamEvent {
  /** Its `event:` field, when it has one (Anthropic names each event so; OpenAI never does). */
  readonly type: string | undefined;
  /** Its `data:` lines, joined with `\n`. */
  readonly data: string;
}

/** Reads an event stream chunk by chunk. */
export class EventStreamReader {
  readonly #decoder = new TextDecoder();
  /** The text after the last complete line. */
  #pending = '';
  #type: string | undefined;
  #data: string[] = [];

  /** The events that `chunk` completes. */
  read(chunk: Uint8Array): StreamEvent[] {
    let text = this.#pending + this.#decoder.decode(chunk, { stream: true });
    // A `\r` at the end may be the first half of a `\r\n`: it waits for the next chunk.
    const heldReturn = text.endsWith('\r');
    if (heldReturn) text = text.slice(0, -1);
    const lines = text.split(/\r\n|\r|\n/);
    this.#pending = lines.pop()! + (heldReturn ? '\r' : '');
    const events: StreamEvent[] = [];
    for (const line of lines) this.#readLine(line, events);
    return events;
  }

  /** The stream ended: its last event, when one was left open. */
  end(): StreamEvent[] {
    const events: StreamEvent[] = [];
    const last = (this.#pending + this.#decoder.decode()).replace(/\r$/, '');
    if (last !== '') this.#readLine(last, events);
    this.#readLine('', events);
    return events;
  }

  #readLine(line: string, events: StreamEvent[]): void {
    if (line === '') {
      if (this.#data.length > 0) events.push({ type: this.#type, data: this.#data.join('\n') });
      this.#type = undefined;
      this.#data = [];
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + 1);
    const content = value.startsWith(' ') ? value.slice(1) : value;
    if (field === 'data') this.#data.push(content);
    else if (field === 'event') this.#type = content;
  }
}
