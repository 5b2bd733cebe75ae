/**
 * A server that greets as a NATS requiring TLS (its INFO), completes the TLS handshake with the test PKI's server
 * certificate, asks no client certificate, and then never answers: what a client that sees no TLS alert meets when
 * a server closes or stalls once encrypted. nats-server itself always sends its alert (tls-server.ts), which the
 * client loses when the server resets the connection first: given `reset`, it does that once the handshake is done.
 * @module
 */
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { TLSSocket, createSecureContext } from 'node:tls';
import { TLS_FILES } from './tls-server.js';

/** A running mute TLS server. */
export interface MuteTlsServer {
  /** `tls://127.0.0.1:<port>` */
  readonly url: string;
  /** How many TLS handshakes it completed. */
  readonly handshakes: () => number;
  /** Drops its connections and stops listening. */
  close(): Promise<void>;
}

/** Starts a mute TLS server on a random loopback port; given `reset`, one that resets each connection once encrypted. */
export async function startMuteTlsServer({ reset = false }: { reset?: boolean } = {}): Promise<MuteTlsServer> {
  const secureContext = createSecureContext({
    cert: readFileSync(TLS_FILES.serverCert),
    key: readFileSync(TLS_FILES.serverKey),
  });
  const sockets = new Set<Socket>();
  let handshakes = 0;
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    const { port } = server.address() as AddressInfo;
    const info = { server_id: 'mute', version: '2.9.10', proto: 1, headers: true, port, tls_required: true };
    socket.write(`INFO ${JSON.stringify({ ...info, host: '127.0.0.1', max_payload: 1048576 })}\r\n`);
    const secured = new TLSSocket(socket, { isServer: true, secureContext });
    secured.on('secure', () => {
      handshakes += 1;
      if (reset) socket.resetAndDestroy();
    });
    secured.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `tls://127.0.0.1:${port}`,
    handshakes: () => handshakes,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
