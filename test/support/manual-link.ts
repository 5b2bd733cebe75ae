/**
 * A connection link (see src/nats/connection-link.ts) the test drops and brings back by hand, for the parts that
 * follow one without a NATS server under them.
 * @module
 */
import type { ConnectionLink } from '../../src/nats/connection-link.js';
import type { ConnectionChange } from '../../src/nats/connection-options.js';

/** A link that is up until {@link drop}; `listeners` are those listening to it now. */
export function manualLink() {
  const listeners = new Set<(change: ConnectionChange) => void>();
  const state = { down: false, drops: 0 };
  const link: ConnectionLink = {
    get down() {
      return state.down;
    },
    get drops() {
      return state.drops;
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    onPublishRefused: () => () => {},
  };
  const tell = (change: ConnectionChange): void => {
    for (const listener of [...listeners]) listener(change);
  };
  const drop = (): void => {
    state.down = true;
    state.drops += 1;
    tell('disconnected');
  };
  const back = (): void => {
    state.down = false;
    tell('reconnected');
  };
  return {
    link,
    listeners,
    drop,
    back,
    /** Drops and is back at once. */
    bounce() {
      drop();
      back();
    },
  };
}
