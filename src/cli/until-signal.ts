/**
 * Long-running commands (`serve`, `var watch`, `events`) run until Ctrl-C or a `docker stop`, or until their
 * connection to NATS is gone for good.
 * @module
 */

/**
 * Resolves with the first SIGINT or SIGTERM, or with `'lost'` when `lost` resolves first (a connection that
 * closed: a signal listener alone does not keep Node running, so without it a dead connection ended the
 * command with exit code 13 and no message). A second signal while the command is still stopping ends the
 * process at once (exit code 130), so a stop that hangs can always be interrupted.
 */
export function untilSignal(lost?: Promise<unknown>): Promise<NodeJS.Signals | 'lost'> {
  return new Promise((resolve) => {
    const force = (): never => process.exit(130);
    let settled = false;
    const settle = (outcome: NodeJS.Signals | 'lost'): void => {
      if (settled) return;
      settled = true;
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
      process.once('SIGINT', force);
      process.once('SIGTERM', force);
      resolve(outcome);
    };
    const onSignal = (signal: NodeJS.Signals): void => settle(signal);
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    void lost?.then(() => settle('lost'));
  });
}

/**
 * Whether `work` settles within `ms`; it is left running either way. A stop bounded this way ends before the
 * orchestrator's kill (`docker stop` sends SIGKILL after its grace period), so the last lines still get out.
 */
export async function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([work.then(() => true as const), late]);
  } finally {
    clearTimeout(timer);
  }
}
