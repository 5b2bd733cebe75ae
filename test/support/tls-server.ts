/**
 * A NATS server that serves TLS only, with a certificate of the test CA (test/support/tls, made by its
 * make-certs.sh), and verifies its clients' certificates against that CA; and the files a client needs for it.
 * @module
 */
import { fileURLToPath } from 'node:url';
import { startNatsServer, type NatsTestServer } from './nats-server.js';

const TLS_DIR = fileURLToPath(new URL('./tls/', import.meta.url));

/** The test PKI's files: the CA, the client's certificate and key, and the server's. */
export const TLS_FILES = {
  ca: `${TLS_DIR}ca.pem`,
  clientCert: `${TLS_DIR}client.pem`,
  clientKey: `${TLS_DIR}client-key.pem`,
  serverCert: `${TLS_DIR}server.pem`,
  serverKey: `${TLS_DIR}server-key.pem`,
} as const;

/** What a client of {@link startTlsServer} passes as `tls`. */
export const CLIENT_TLS = { caFile: TLS_FILES.ca, certFile: TLS_FILES.clientCert, keyFile: TLS_FILES.clientKey };

/**
 * Starts a server that requires TLS and a client certificate the test CA signed, or, given `clientCa`, one that CA
 * file signed (the server's own certificate refuses every client's). `handshakeTimeoutS` is how long it gives a
 * client's TLS handshake before it closes the connection without an alert (nats-server's default: 2 s).
 */
export function startTlsServer(clientCa: string = TLS_FILES.ca, handshakeTimeoutS?: number): Promise<NatsTestServer> {
  return startNatsServer({
    config: [
      'tls {',
      `  cert_file: "${TLS_FILES.serverCert}"`,
      `  key_file: "${TLS_FILES.serverKey}"`,
      `  ca_file: "${clientCa}"`,
      '  verify: true',
      ...(handshakeTimeoutS === undefined ? [] : [`  timeout: ${handshakeTimeoutS}`]),
      '}',
    ].join('\n'),
  });
}
