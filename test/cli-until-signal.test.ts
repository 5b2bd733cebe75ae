/**
 * The signal wait of the long-running commands (`serve`, `var watch`, `events`, `inspect`): a first Ctrl-C stops the
 * command, a second one while it still stops ends the process at once with 130. Found under load: the wait swapped its
 * SIGINT listener for another at the first signal, and for that moment the process had none, so Node's default
 * action applied: a second Ctrl-C landing then killed `serve` by the signal (no exit code) instead of exiting 130.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { untilSignal } from '../src/cli/until-signal.js';

describe('untilSignal', () => {
  afterEach(() => vi.restoreAllMocks());

  it('keeps a SIGINT listener from the first signal to the release, and exits 130 on the second', async () => {
    const before = process.listenerCount('SIGINT');
    const beforeTerm = process.listenerCount('SIGTERM');
    const wait = untilSignal();
    // Every moment the process was left with no SIGINT listener of its own (Node's default action: death by signal).
    const bare: string[] = [];
    const onRemoved = (event: string | symbol): void => {
      if (event === 'SIGINT' && process.listenerCount('SIGINT') === before) bare.push('SIGINT');
    };
    process.on('removeListener', onRemoved);
    const exit = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      process.emit('SIGINT', 'SIGINT');
      await expect(wait.stopped).resolves.toBe('SIGINT');
      expect(bare).toEqual([]);
      expect(process.listenerCount('SIGINT')).toBe(before + 1);
      expect(exit).not.toHaveBeenCalled();

      expect(stderr).not.toHaveBeenCalled();
      process.emit('SIGINT', 'SIGINT');
      expect(exit).toHaveBeenCalledWith(130);
      // Said before it exits: the line the stop would have printed never comes.
      expect(stderr).toHaveBeenCalledWith('tether: exiting at once on SIGINT (130), before the command had ended\n');
    } finally {
      process.off('removeListener', onRemoved);
      wait.release();
    }
    // Released: Node's defaults apply again, and nothing of the wait is left.
    expect(process.listenerCount('SIGINT')).toBe(before);
    expect(process.listenerCount('SIGTERM')).toBe(beforeTerm);
  });

  it('ends at once on a signal after it stopped for another cause (the connection lost)', async () => {
    let lose: () => void = () => {};
    const wait = untilSignal(new Promise<void>((resolve) => (lose = resolve)));
    const exit = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      lose();
      await expect(wait.stopped).resolves.toBe('lost');
      process.emit('SIGTERM', 'SIGTERM');
      expect(exit).toHaveBeenCalledWith(143);
      expect(stderr).toHaveBeenCalledWith('tether: exiting at once on SIGTERM (143), before the command had ended\n');
    } finally {
      wait.release();
    }
  });
});
