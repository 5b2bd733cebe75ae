/**
 * Whether a node's bucket watch is down: from the moment its connection drops until the watch, resumed once the
 * connection is back, has its new consumer open. Meanwhile the node may already take requests again (nats.js
 * subscribes the service again at once on a reconnect), but its watch applies nothing: opening the consumer can take
 * seconds while a server of the cluster is down (see kv-watch-consumer.ts). A read-your-writes wait whose bound runs
 * out in that time goes on until the watch is back (see revision-waiters.ts), rather than refuse a request the
 * watch would have caught up with a moment later.
 * @module
 */

/** One bucket watch's outages, as its connection and its resumes tell them. */
export class WatchOutage {
  #down = false;
  /** Bumped by each drop: a resume that ends after a later drop does not end the later outage. */
  #drops = 0;
  readonly #over = new Set<() => void>();

  /** Whether the watch is down (its connection dropped, and the resumed consumer is not open yet). */
  get down(): boolean {
    return this.#down;
  }

  /** The connection dropped: nothing is applied until a resume after it is done. */
  began(): void {
    this.#down = true;
    this.#drops += 1;
  }

  /**
   * The connection is back and the watch resumed: the outage is over once `resumed` settles (the consumer is open,
   * or the watch was stopped or ended: nothing is then left to wait for), unless the connection dropped again
   * meanwhile.
   */
  endsWith(resumed: Promise<unknown>): void {
    const drops = this.#drops;
    const end = (): void => {
      if (drops !== this.#drops || !this.#down) return;
      this.#down = false;
      const over = [...this.#over];
      this.#over.clear();
      for (const listener of over) listener();
    };
    resumed.then(end, end);
  }

  /** Calls `listener` once the outage is over; returns what removes it before that. */
  whenOver(listener: () => void): () => void {
    this.#over.add(listener);
    return () => this.#over.delete(listener);
  }
}
