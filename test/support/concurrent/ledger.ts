/**
 * What the concurrency fuzzer's calls did: each call's outcome (a value or a typed refusal), and the writes that
 * resolved, each with the version it claims. The invariants are checked against it once the run is over.
 * @module
 */
import { BridgeError } from '../../../src/index.js';

/**
 * One resolved write: the variable, the identity of the definition written when the reply names it (a batch's
 * outcome does not), the version the reply claims, and the value written.
 */
export interface Claim {
  readonly worker: string;
  readonly call: string;
  readonly name: string;
  readonly id: string | undefined;
  readonly version: number;
  readonly value: unknown;
  /** Who the write named (`updatedBy`), or null. */
  readonly updatedBy: string | null;
  /** The version a compare-and-set expected, for `setVariable` with `expectedVersion`. */
  readonly expectedVersion?: number;
}

/** One call and how it ended. */
export interface CallRecord {
  readonly worker: string;
  readonly label: string;
  readonly outcome: { readonly ok: unknown } | { readonly code: string } | { readonly unexpected: string };
}

/** The ledger of one run. */
export class Ledger {
  readonly calls: CallRecord[] = [];
  readonly claims: Claim[] = [];
  /** Values every increment of the counter resolved to. */
  readonly increments: number[] = [];
  /** Calls that ended otherwise than they may (an undocumented or internal error, a refusal of a valid call...). */
  readonly violations: string[] = [];

  /**
   * Runs `call` and records how it ended; returns its value, or undefined when it was refused. `allowed` lists the
   * codes this call may be refused with: documented kinds (`validation_failed`, `variable_not_found`,
   * `already_exists`, `version_conflict`, `variable_locked`) its state or arguments explain.
   */
  async record<T>(
    worker: string,
    label: string,
    allowed: readonly string[],
    call: () => Promise<T>,
  ): Promise<{ ok: true; value: T } | { ok: false; code: string }> {
    try {
      const value = await call();
      this.calls.push({ worker, label, outcome: { ok: value } });
      return { ok: true, value };
    } catch (error) {
      const code = error instanceof BridgeError ? error.code : undefined;
      if (code !== undefined && allowed.includes(code)) {
        this.calls.push({ worker, label, outcome: { code } });
        return { ok: false, code };
      }
      const shown =
        error instanceof Error ? `${error.constructor.name} ${code ?? ''}: ${error.message}` : String(error);
      this.calls.push({ worker, label, outcome: { unexpected: shown } });
      this.violations.push(`${worker} ${label}: ${shown} (may be refused with: ${allowed.join(', ') || 'nothing'})`);
      return { ok: false, code: code ?? 'untyped' };
    }
  }

  claim(claim: Claim): void {
    this.claims.push(claim);
  }

  /** Counts of each call kind's outcomes, for the run's summary line. */
  summary(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const { label, outcome } of this.calls) {
      const kind = /^\w+/.exec(label)?.[0] ?? label;
      const key = `${kind}: ${'ok' in outcome ? 'ok' : 'code' in outcome ? outcome.code : 'UNEXPECTED'}`;
      counts[key] = (counts[key] ?? 0) + 1;
    }
    return counts;
  }
}
