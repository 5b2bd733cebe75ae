/**
 * The part of a NATS connection that a node's held output reads (whether it closed for good, and when), closed by
 * hand, for tests without a server.
 * @module
 */
import type { ClosingConnection } from '../../src/nats/held-output.js';

/** A connection that is open until {@link close}. */
export function closingConnection(): { connection: ClosingConnection; close(): void } {
  let closed = false;
  let markClosed: () => void = () => {};
  const whenClosed = new Promise<void>((resolve) => (markClosed = resolve));
  return {
    connection: { isClosed: () => closed, closed: () => whenClosed },
    close() {
      closed = true;
      markClosed();
    },
  };
}
