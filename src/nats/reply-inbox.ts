/**
 * One wildcard subscription (`_INBOX.<nuid>.*`) that takes the replies of every watched request of a connection
 * and hands each to its waiter by the last token of its subject, as nats.js does for its own requests. A request
 * thus costs no SUB and UNSUB of its own: an inbox per request added some 150 µs to a remote execute.
 * @module
 */
import { createInbox, ErrorCode, NatsError, type Msg, type NatsConnection, type Subscription } from 'nats';

/** Who waits on one reply subject. */
export interface InboxWaiter {
  /** A message arrived on the waiter's reply subject. */
  deliver(msg: Msg): void;
  /** Nothing more can arrive: the subscription failed, or ended with the connection (`CONNECTION_CLOSED`). */
  ended(error: Error): void;
}

/** A waiter's place in the inbox. */
export interface InboxSlot {
  /** The reply subject to publish the request with. */
  readonly subject: string;
  /** Removes the waiter; messages still arriving on its subject are dropped. */
  close(): void;
}

/** The shared reply inbox of one connection; it subscribes at its first {@link ReplyInbox.open}. */
export class ReplyInbox {
  readonly #connection: NatsConnection;
  readonly #prefix = createInbox();
  readonly #waiters = new Map<string, InboxWaiter>();
  #subscription: Subscription | undefined;
  #next = 0;

  constructor(connection: NatsConnection) {
    this.#connection = connection;
  }

  /** The waiters registered and not closed: none once every request has ended. */
  get size(): number {
    return this.#waiters.size;
  }

  /** Registers `waiter` on a fresh reply subject. Throws what `subscribe` throws on a closed connection. */
  open(waiter: InboxWaiter): InboxSlot {
    this.#subscription ??= this.#subscribe();
    const token = (this.#next++).toString(36);
    this.#waiters.set(token, waiter);
    return { subject: `${this.#prefix}.${token}`, close: () => this.#waiters.delete(token) };
  }

  #subscribe(): Subscription {
    let failure: Error | undefined;
    const subscription = this.#connection.subscribe(`${this.#prefix}.*`, {
      callback: (error, msg) => {
        if (error) {
          // A permissions violation on the inbox: no reply can reach this client.
          failure = error;
          subscription.unsubscribe();
          return;
        }
        this.#waiters.get(msg.subject.slice(this.#prefix.length + 1))?.deliver(msg);
      },
    });
    void subscription.closed.then(() => {
      if (this.#subscription === subscription) this.#subscription = undefined;
      const ended = [...this.#waiters.values()];
      this.#waiters.clear();
      const error = failure ?? NatsError.errorForCode(ErrorCode.ConnectionClosed);
      for (const waiter of ended) waiter.ended(error);
    });
    return subscription;
  }
}
