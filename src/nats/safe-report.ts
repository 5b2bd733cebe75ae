/**
 * A reporter that never throws. The node's reports come from places that must go on whatever the user's `onError`
 * does: the rest of a batch of events, or of the replies held through an outage, still goes out, and a stop waiting
 * for them is not left pending.
 * @module
 */

/** `report`, with what it throws swallowed: a reporter that fails has nowhere left to report to. */
export function safeReport(report: (error: unknown, where: string) => void): (error: unknown, where: string) => void {
  return (error, where) => {
    try {
      report(error, where);
    } catch {
      // Nowhere left to tell.
    }
  };
}
