/**
 * Tether's own counts per endpoint of the `tether` service, for `$SRV.STATS`. nats.js counts an error only when a
 * handler throws synchronously and times only that synchronous call, so for Tether's handlers, which answer after
 * awaiting the work, its `num_errors` stays 0 and its `processing_time` near 0. Each endpoint's `data` in
 * `$SRV.STATS` carries these figures instead (the micro protocol's place for a service's own stats).
 *
 * A module's `execute` or `describe` that reached another node and was passed on to this one (the node that has the
 * module, see module-forward.ts) comes in on a subscription outside the micro service: it counts in `passed_on` of
 * the endpoint of its operation, apart from that endpoint's own requests, which the node it reached counts once more
 * as its own. Summing `replies` over the nodes counts each request once; `passed_on` tells which node did the work.
 * @module
 */

/** The figures of one kind of request of an endpoint. */
export interface EndpointFigures {
  /** Requests answered so far, with a reply or an error. */
  readonly replies: number;
  /** Requests answered with an error reply. */
  readonly errors: number;
  /** Time from taking each request to answering it, summed, in nanoseconds (the micro protocol's unit). */
  readonly processing_time: number;
  /** `processing_time / replies`, in nanoseconds; 0 before the first reply. */
  readonly average_processing_time: number;
  /** The description of the last error reply (`<code>: <message>`, as its header had it); `''` before the first. */
  readonly last_error: string;
}

/** What `$SRV.STATS` shows in an endpoint's `data`: its own requests, and those passed on to it if it takes any. */
export interface EndpointStatsData extends EndpointFigures {
  /** The requests other nodes passed on to this one (a module endpoint's whose operation is passed on). */
  readonly passed_on?: EndpointFigures;
}

interface Counts {
  replies: number;
  errors: number;
  nanos: bigint;
  lastError: string;
}

/** The key under which {@link EndpointStats} counts the requests passed on to the endpoint on `subject`. */
export function passedOnKey(subject: string): string {
  // No subject holds a space: it cannot be taken for an endpoint's own.
  return `passed-on ${subject}`;
}

/** Per-endpoint counters, keyed by the endpoint's subject (or {@link passedOnKey} of it). */
export class EndpointStats {
  readonly #bySubject = new Map<string, Counts>();
  readonly #takingPassedOn: ReadonlySet<string>;

  /**
   * `takingPassedOn`: the subjects of the endpoints that are passed requests on, whose `data` always has `passed_on`
   * (zeros before the first), so a dashboard reads the same shape from every node.
   */
  constructor(takingPassedOn: Iterable<string> = []) {
    this.#takingPassedOn = new Set(takingPassedOn);
  }

  /** The moment a request was taken, to hand back to {@link EndpointStats.answered}. */
  taken(): bigint {
    return process.hrtime.bigint();
  }

  /**
   * Counts one answered request under `key` (an endpoint's subject, or {@link passedOnKey} of it), taken at `since`;
   * `error` is the description of its error reply, if it was one.
   */
  answered(key: string, since: bigint, error?: string): void {
    let counts = this.#bySubject.get(key);
    if (!counts) this.#bySubject.set(key, (counts = { replies: 0, errors: 0, nanos: 0n, lastError: '' }));
    counts.replies += 1;
    if (error !== undefined) {
      counts.errors += 1;
      counts.lastError = error;
    }
    counts.nanos += process.hrtime.bigint() - since;
  }

  /** The `data` of the endpoint on `subject`. */
  data(subject: string): EndpointStatsData {
    const own = this.#figures(subject);
    return this.#takingPassedOn.has(subject) ? { ...own, passed_on: this.#figures(passedOnKey(subject)) } : own;
  }

  #figures(key: string): EndpointFigures {
    const { replies = 0, errors = 0, nanos = 0n, lastError = '' } = this.#bySubject.get(key) ?? {};
    const total = Number(nanos);
    return {
      replies,
      errors,
      processing_time: total,
      average_processing_time: replies === 0 ? 0 : Math.round(total / replies),
      last_error: lastError,
    };
  }
}
