/**
 * nats.js's `connect`, over a Node transport that closes the socket of a connect it gives up.
 *
 * nats.js 2.29 gives up a connect attempt that runs past its timeout (a server that takes the connection and never
 * sends its INFO: a hung nats-server, a port another program holds) by closing its transport, and its
 * `NodeTransport.close()` does nothing until the transport is connected: the socket stayed open for as long as the
 * server held it, keeping the process alive after the connect had failed, one more socket with each attempt (a
 * service retrying its start, a connection reconnecting to such a server). Nor did it close a socket still opening
 * its TCP connection (an address that drops packets): that one lived on for the OS's connect timeout, two minutes
 * on Linux.
 *
 * It also keeps what nats.js forgets of a connect it gives up: a server that refuses a client's certificate after
 * the client's side of a TLS 1.3 handshake is done ends the connection with an alert nats.js only notes on its
 * transport, and the connect fails later with its TIMEOUT (see {@link givenUpTransport}). A process busy when its
 * handshake ended may find the timeout due before it has read the alert already sent: a connect given up once
 * encrypted waits a moment for what its socket still holds (see {@link ALERT_GRACE_MS}).
 * @module
 */
import { ErrorCode, type ConnectionOptions, type NatsConnection } from 'nats';
import { createConnection, type Socket } from 'node:net';
import { NatsConnectionImpl, setTransportFactory } from 'nats/lib/src/nats-base-client.js';
import { NodeTransport, nodeResolveHost } from 'nats/lib/src/node_transport.js';

/** What the transport of a connect nats.js gave up saw before it was closed. */
export interface GivenUpTransport {
  /** Whether its TLS handshake was done: the connection was encrypted when it was given up. */
  readonly secured: boolean;
  /** The error its socket closed with, once connected (a TLS alert the server sent, a reset). */
  readonly closedWith?: Error;
}

/**
 * How long a connect that timed out once its TLS handshake was done waits for its socket to close with what the
 * server sent (an alert, or a reset): on a loaded machine the timer fired before the alert, there since, was read
 * (CI, twice).
 */
const ALERT_GRACE_MS = 250;

/** What each transport closed with an error saw, by that error (nats.js's TIMEOUT of a connect it gave up). */
const givenUp = new WeakMap<object, GivenUpTransport>();

/**
 * What the transport that nats.js closed with `error` saw, if nats.js closed one with it: a connect rejects with the
 * error it closed its last transport with.
 */
export function givenUpTransport(error: unknown): GivenUpTransport | undefined {
  return typeof error === 'object' && error !== null ? givenUp.get(error) : undefined;
}

/** A `NodeTransport` whose `close()` before it is connected ends the connect under way and its socket. */
class ClosingTransport extends NodeTransport {
  #givenUp = false;
  #secured = false;
  /** The socket of a dial under way, until its TCP connection opens or fails. */
  #dialing: Socket | undefined;

  override async close(err?: Error): Promise<void> {
    if (
      this.connected &&
      this.#secured &&
      !this.isClosed &&
      (err as { code?: unknown } | undefined)?.code === ErrorCode.Timeout
    )
      await this.#closedWithin(ALERT_GRACE_MS);
    // Kept by the error, all a failed connect gives its caller: nats.js drops the transport with it.
    if (typeof err === 'object' && err !== null)
      givenUp.set(err, {
        secured: this.#secured,
        ...(this.closeError === undefined ? {} : { closedWith: this.closeError }),
      });
    if (!this.connected) {
      this.#givenUp = true;
      this.#dialing?.destroy();
      // Typed as always there; it is not until the TCP connection is open (see dial).
      (this.socket as Socket | undefined)?.destroy();
    }
    return super.close(err);
  }

  /** Until the socket closes of itself (nats.js keeps the error it closed with as `closeError`), or `ms` passed. */
  async #closedWithin(ms: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([this.closed(), new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
    clearTimeout(timer);
  }

  /**
   * Opens the TCP connection as nats.js's own `dial` does, keeping the socket where `close()` finds it: nats.js's
   * keeps it to itself until the connection opens.
   */
  override dial(hp: { hostname: string; port: number }): Promise<Socket> {
    return new Promise((resolve, reject) => {
      let failure: Error | undefined;
      const socket = createConnection(hp.port, hp.hostname, () => {
        socket.removeAllListeners();
        this.#dialing = undefined;
        // The TCP connection opened after the connect was given up: nothing will read it.
        if (!this.#givenUp) return resolve(socket);
        socket.destroy();
        reject(new Error('connect given up'));
      });
      this.#dialing = socket;
      socket.on('error', (error) => (failure = error));
      socket.on('close', () => {
        socket.removeAllListeners();
        this.#dialing = undefined;
        reject(failure ?? new Error(this.#givenUp ? 'connect given up' : 'the connection closed before it opened'));
      });
      socket.setNoDelay(true);
    });
  }

  override async connect(...args: Parameters<NodeTransport['connect']>): Promise<void> {
    await super.connect(...args);
    this.#secured = this.isEncrypted();
    // The server answered after the connect was given up: connected now, `close()` ends it.
    if (this.#givenUp) await super.close();
  }
}

/**
 * Connects as nats.js's `connect` does, each attempt (the first and every reconnect) over a {@link ClosingTransport}.
 * nats.js keeps its transport factory in one module-wide setting, which its own `connect` sets on each call: this
 * sets it likewise, so a connection made in the same process with nats.js's `connect` meanwhile uses this transport
 * too (it differs only once a connect is given up), and one made after sets nats.js's own again for the next attempts.
 */
export function connectClosingGivenUp(options: ConnectionOptions): Promise<NatsConnection> {
  setTransportFactory({ factory: () => new ClosingTransport(), dnsResolveFn: nodeResolveHost });
  return NatsConnectionImpl.connect(options);
}
