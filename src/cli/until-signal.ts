/**
 * Long-running commands (`serve`, `var watch`, `events`) run until Ctrl-C or a `docker stop`.
 * @module
 */

/**
 * Resolves with the first SIGINT or SIGTERM. A second signal while the command is still stopping ends the
 * process at once (exit code 130), so a stop that hangs can always be interrupted.
 */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
      const force = (): never => process.exit(130);
      process.once('SIGINT', force);
      process.once('SIGTERM', force);
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
