/**
 * Tether's own counts per endpoint of the `tether` service, for `$SRV.STATS`. nats.js counts an error only when a
 * handler throws synchronously and times only that synchronous call, so for Tether's handlers, which answer after
 * awaiting the work, its `num_errors` stays 0 and its `processing_time` near 0. Each endpoint's `data` in
 * `$SRV.STATS` carries these figures instead (the micro protocol's place for a service's own stats).
 * @module
 */

/** What `$SRV.STATS` shows in an endpoint's `data`. */
export interface EndpointStatsData {
  /** Requests answered so far, with a reply or an error. */
  readonly replies: number;
  /** Requests answered with an error reply. */
  readonly errors: number;
  /** Time from taking each request to answering it, summed, in nanoseconds (the micro protocol's unit). */
  readonly processing_time: number;
  /** `processing_time / replies`, in nanoseconds; 0 before the first reply. */
  readonly average_processing_time: number;
}

interface Counts {
  replies: number;
  errors: number;
  nanos: bigint;
}

/** Per-endpoint counters, keyed by the endpoint's subject. */
export class EndpointStats {
  readonly #bySubject = new Map<string, Counts>();

  /** The moment a request was taken, to hand back to {@link EndpointStats.answered}. */
  taken(): bigint {
    return process.hrtime.bigint();
  }

  /** Counts one answered request of the endpoint on `subject`, taken at `since`. */
  answered(subject: string, since: bigint, failed: boolean): void {
    let counts = this.#bySubject.get(subject);
    if (!counts) this.#bySubject.set(subject, (counts = { replies: 0, errors: 0, nanos: 0n }));
    counts.replies += 1;
    if (failed) counts.errors += 1;
    counts.nanos += process.hrtime.bigint() - since;
  }

  /** The `data` of the endpoint on `subject`. */
  data(subject: string): EndpointStatsData {
    const { replies = 0, errors = 0, nanos = 0n } = this.#bySubject.get(subject) ?? {};
    const total = Number(nanos);
    return {
      replies,
      errors,
      processing_time: total,
      average_processing_time: replies === 0 ? 0 : Math.round(total / replies),
    };
  }
}
