/**
 * Long-running commands (`serve`, `var watch`, `events`, `inspect`) run until Ctrl-C or a `docker stop`, or until their
 * connection to NATS is gone for good (or, for those that print, until nobody reads their output). A one-shot
 * command that can be cancelled turns the signal into an abort instead.
 * @module
 */
import { constants } from 'node:os';

/**
 * The exit code of a command a signal ended: 128 + the signal's number, as a shell reports a process it killed
 * (130 for SIGINT, 143 for SIGTERM).
 */
export function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + (constants.signals[signal] ?? 0);
}

/** What ended a long-running command: a signal, or what {@link untilSignal} was given to follow. */
export type StopCause = NodeJS.Signals | 'lost' | 'output_closed' | 'ended';

/** What {@link untilSignal} returns. */
export interface StopWait {
  /**
   * Resolves with the first SIGINT or SIGTERM; with `'lost'` when `lost` resolves first (a connection that closed:
   * a signal listener alone does not keep Node running, so without it a dead connection ended the command with exit
   * code 13 and no message); with `'output_closed'` when `outputClosed` does (nobody reads stdout any more:
   * `tether events | head -1`); with `'ended'` when `ended` does (what the command follows is gone: a watched
   * session).
   */
  readonly stopped: Promise<StopCause>;
  /**
   * Removes the signal listeners once the command has stopped: Node's defaults apply again, so a program that ran
   * the command with `runCli` keeps none of them (nor the exit on the next signal). `stopped` stays pending if it
   * had not settled.
   */
  release(): void;
}

/**
 * Waits for what ends a long-running command (see {@link StopWait.stopped}). A second signal while the command is
 * still stopping ends the process at once ({@link signalExitCode}), so a stop that hangs can always be interrupted;
 * {@link StopWait.release}, once the command has stopped, takes that away again.
 */
export function untilSignal(
  lost?: Promise<unknown>,
  outputClosed?: Promise<unknown>,
  ended?: Promise<unknown>,
): StopWait {
  let stopping = false;
  let resolveStopped: (cause: StopCause) => void = () => {};
  const stopped = new Promise<StopCause>((resolve) => (resolveStopped = resolve));
  const settle = (cause: StopCause): void => {
    if (stopping) return;
    stopping = true;
    resolveStopped(cause);
  };
  // One listener from the first signal to the release, which tells a second one by the state. Swapped for another at
  // the first, the last SIGINT listener was removed for a moment: Node restored the default action, and a second
  // Ctrl-C landing then (a loaded machine, signals sent in a loop) killed the process by the signal, not with 130.
  const onSignal = (signal: NodeJS.Signals): void => (stopping ? force(signal) : settle(signal));
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  void lost?.then(() => settle('lost'));
  void outputClosed?.then(() => settle('output_closed'));
  void ended?.then(() => settle('ended'));
  return {
    stopped,
    release() {
      stopping = true;
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
    },
  };
}

/**
 * Ends the process at once, as the signal would have without a listener, saying so first: the line the stop would
 * have printed (`tether: node stopped (SIGINT)`) never comes, and a script's log would otherwise show nothing.
 */
const force = (signal: NodeJS.Signals): never => {
  const code = signalExitCode(signal);
  // Not in the form of a failure's line (`tether: <code>: <message>`): a script reading the code would take the signal
  // for one. Said for a command cancelling its call (`module call`) as for one stopping.
  process.stderr.write(`tether: exiting at once on ${signal} (${code}), before the command had ended\n`);
  return process.exit(code);
};

/** What {@link abortOnSignal} returns. */
export interface SignalAbort {
  /** Aborted by the first SIGINT or SIGTERM, with the signal's name as its reason. */
  readonly signal: AbortSignal;
  /** The signal that aborted it, if one did. */
  received(): NodeJS.Signals | undefined;
  /** Removes the listeners: Node's defaults apply again. */
  dispose(): void;
}

/**
 * For a one-shot command whose work can be cancelled (`module call`): the first SIGINT or SIGTERM aborts
 * `signal` instead of killing the process, so the command can tell the node before it exits; a second one ends
 * the process at once.
 */
export function abortOnSignal(): SignalAbort {
  const controller = new AbortController();
  let received: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (received !== undefined) return force(signal);
    received = signal;
    controller.abort(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    received: () => received,
    dispose() {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
    },
  };
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
