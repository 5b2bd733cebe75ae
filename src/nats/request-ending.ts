/**
 * How a request's work hears that its node ended the request early: a stopping node past its drain timeout answers
 * what is still in flight with `node_stopping` and tells the work, so that an execution drops its provider call.
 *
 * Not an `AbortController`: every request gets one and almost none is ever ended, and on Node 20 creating an
 * `AbortController` and listening to its signal costs some 5 µs per request (an `EventTarget` each), about as much
 * as the rest of the endpoint's bookkeeping together.
 * @module
 */

/** What a request's work reads of its ending. */
export interface RequestEnded {
  /** Whether the request was ended. */
  readonly ended: boolean;
  /** Why: the error its caller was answered with; `undefined` while not ended. */
  readonly reason: unknown;
  /** Calls `listener` with the reason once the request is ended, at once if it is already. */
  onEnd(listener: (reason: unknown) => void): void;
}

/** One request's ending: the work gets it as {@link RequestEnded}, the endpoint ends it. */
export class RequestEnding implements RequestEnded {
  #ended = false;
  #reason: unknown;
  #listeners: ((reason: unknown) => void)[] | undefined;

  get ended(): boolean {
    return this.#ended;
  }

  get reason(): unknown {
    return this.#reason;
  }

  onEnd(listener: (reason: unknown) => void): void {
    if (this.#ended) listener(this.#reason);
    else (this.#listeners ??= []).push(listener);
  }

  /** Ends the request with `reason` and tells each listener once; a second end does nothing. */
  end(reason: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#reason = reason;
    const listeners = this.#listeners ?? [];
    this.#listeners = undefined;
    for (const listener of listeners) listener(reason);
  }
}
