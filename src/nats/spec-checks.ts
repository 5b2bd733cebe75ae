/**
 * The checks of a node's module processes against the modules bucket once its connection is back, made until each
 * one got an answer: a stop's delete marker may have left the bucket while the node was away (late-removals.ts), and
 * a process nobody checks would go on running a stopped module for every handle held on the node.
 * @module
 */

/** The first wait before checking again those the bucket did not answer for; it doubles up to {@link MAX_WAIT_MS}. */
const FIRST_WAIT_MS = 500;
const MAX_WAIT_MS = 10_000;
/** How long checks may go unanswered before it is reported (once). */
const REPORT_AFTER_MS = 30_000;

/**
 * Runs `check` (which resolves to how many processes are still unchecked) until it leaves none, a while apart, as
 * long as `wanted` says so (the connection up, the node not stopping). Reports once when some stay unchecked for
 * {@link REPORT_AFTER_MS}, and goes on.
 */
export async function checkSpecsUntilDone(
  check: () => Promise<number>,
  wanted: () => boolean,
  report: (error: Error) => void,
): Promise<void> {
  let waited = 0;
  let told = false;
  for (let waitMs = FIRST_WAIT_MS; wanted(); waitMs = Math.min(waitMs * 2, MAX_WAIT_MS)) {
    const left = await check();
    if (left === 0) return;
    if (!told && waited >= REPORT_AFTER_MS) {
      told = true;
      report(
        new Error(
          `${left} module process(es) could not be checked against the modules bucket for ${waited / 1000} s since ` +
            'the connection came back (they go on until checked; still trying)',
        ),
      );
    }
    await new Promise<void>((resolve) => setTimeout(resolve, waitMs).unref());
    waited += waitMs;
  }
}
