/**
 * A server that verifies its clients (`verify: true`) and is shown no client certificate: nats-server ends the TLS
 * handshake with an alert after the client's side of it is done, and nats.js failed the connect only with its
 * TIMEOUT. The error now names the alert and the missing certificate; with no alert to read, a connection reset or
 * silent once encrypted is told as such and the likely cause; anything else reads as before.
 */
import type { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { describe, expect, it, onTestFinished } from 'vitest';
import { NatsConnectionError, Runtime, connect, subscribeEvents } from '../../src/index.js';
import { runCliProcess } from '../support/cli-process.js';
import { closedPort } from '../support/closed-port.js';
import { startMuteTlsServer } from '../support/mute-tls-server.js';
import { startSilentServer } from '../support/silent-server.js';
import { CLIENT_TLS, TLS_FILES, startTlsServer } from '../support/tls-server.js';

const id = `${process.pid}_${Date.now()}`;
/** Short: the alert comes at once, but the connect still fails only at its timeout. */
const connectTimeoutMs = 1500;
/**
 * For a connect whose TLS handshake must be done (an alert read, or a silence after it) before it times out: on a
 * loaded machine the handshake took longer than 1.5 s, and the connect ended a plain TIMEOUT (CI, once).
 */
const handshakeTimeoutMs = 5000;
/** The CA alone: the server's certificate is trusted, no certificate of the client's is shown. */
const CA_ONLY = { caFile: TLS_FILES.ca };
/** The codes of a connection the server reset: read, or written. */
const RESET = /^(ECONNRESET|EPIPE)$/;
/** The alert nats-server sends a client that showed no certificate: Go sent `bad certificate` before 1.21. */
const ALERT = /^(bad certificate|certificate required)$/;

/**
 * Expects the details of a refusal of a client that showed no certificate: nats-server's alert, or the reset that
 * lost it when the client's CONNECT reached the server before it closed (see tls-refusal.ts).
 */
function expectNoCertificateRefusal(details: Readonly<Record<string, unknown>>): void {
  expect(details).toMatchObject(
    details.tls === 'alert'
      ? { alert: expect.stringMatching(ALERT), clientCertificate: 'required' }
      : { tls: 'reset', reset: expect.stringMatching(RESET), clientCertificate: 'likely_required' },
  );
}

/** The pattern of what {@link expectNoCertificateRefusal}'s refusals say, naming the files as `names` (escaped). */
function noCertificateRefusal(names: string): string {
  return (
    "(the server refused the TLS handshake \\(alert '[a-z ]+'\\): it requires|the server closed the connection " +
    'once the TLS handshake was done \\((ECONNRESET|EPIPE)\\): the server likely requires) a client certificate, ' +
    `and none was given \\(${names}\\)`
  );
}

/** What a connect that must fail threw. */
async function failure(attempt: Promise<unknown>): Promise<unknown> {
  return attempt.then(
    () => expect.fail('connected'),
    (error: unknown) => error,
  );
}

describe('tls-refusal', () => {
  it('connect, Runtime.start and subscribeEvents name the alert (or reset) and the missing client certificate', async () => {
    const server = await startTlsServer();
    onTestFinished(() => server.stop());
    const settings = { servers: server.url, connectTimeoutMs: handshakeTimeoutMs, tls: CA_ONLY };
    const nodeOptions = { ...settings, prefix: `refusal_${id}`, variablesBucket: `refusal_vars_${id}` };
    for (const attempt of [
      failure(connect(settings)),
      failure(Runtime.start({ onError: () => {}, nats: nodeOptions })),
      failure(subscribeEvents(settings, () => {})),
    ]) {
      const error = await attempt;
      expect(error).toBeInstanceOf(NatsConnectionError);
      expect(error).toMatchObject({ status: 'unreachable' });
      expectNoCertificateRefusal((error as NatsConnectionError).details);
      expect((error as Error).message).toMatch(
        new RegExp(
          `^cannot connect to NATS \\(${server.url}\\); ${noCertificateRefusal('tls\\.certFile, tls\\.keyFile')}$`,
        ),
      );
    }
  }, 20_000);

  it('tether var get and tether serve say so in their one line, naming NATS_CERT and NATS_KEY (exit 3)', async () => {
    const server = await startTlsServer();
    onTestFinished(() => server.stop());
    const env = { NATS_URL: server.url, NATS_CA: TLS_FILES.ca };
    const [get, serve] = await Promise.all([
      runCliProcess(['var', 'get', 'n', '-s', 'c', '--prefix', `refusal_cli_${id}`], env),
      runCliProcess(['serve', '--prefix', `refusal_serve_${id}`], env),
    ]);
    const refused = `${noCertificateRefusal('NATS_CERT, NATS_KEY')}\\n$`;
    expect(get.code).toBe(3);
    expect(get.stderr).toMatch(new RegExp(`^tether: nats_unreachable: cannot reach NATS at ${server.url}: ${refused}`));
    expect(serve.code).toBe(3);
    expect(serve.stderr).toMatch(
      new RegExp(`^tether: nats_unreachable: cannot start a node on NATS at ${server.url}: ${refused}`),
    );
  }, 30_000);

  it('names only the alert, or the reset that lost it, when the client certificate shown is refused', async () => {
    // The server trusts no CA that signed the client's certificate.
    const server = await startTlsServer(TLS_FILES.serverCert);
    onTestFinished(() => server.stop());
    const error = await failure(
      connect({ servers: server.url, connectTimeoutMs: handshakeTimeoutMs, tls: CLIENT_TLS }),
    );
    const { details, message } = error as NatsConnectionError;
    expect(details).not.toHaveProperty('clientCertificate');
    // Which one depends on whether the client's CONNECT reached the server before it closed (tls-refusal.ts).
    if (details.tls === 'alert') {
      expect(details.alert).toMatch(/^[a-z ]+$/);
      expect(message).toBe(
        `cannot connect to NATS (${server.url}); the server refused the TLS handshake (alert '${details.alert}')`,
      );
    } else {
      expect(details).toMatchObject({ tls: 'reset', reset: expect.stringMatching(RESET) });
      expect(message).toBe(
        `cannot connect to NATS (${server.url}); the server closed the connection once the TLS handshake was done ` +
          `(${details.reset})`,
      );
    }
  });

  it('names the alert, or the reset that lost it, when the connect timed out before it read what came after its handshake', async () => {
    // Patient with the handshake: one it closed for taking too long would fail the connect before its timer does.
    const server = await startTlsServer(TLS_FILES.ca, 30);
    onTestFinished(() => server.stop());
    // nats.js opens its TLS socket with Node's tls.connect, read at each call: the handshake's last step is made to
    // run past the connect's timeout, so the timer is due before what the server sent since is read: its alert, or,
    // when the CONNECT written late reached a socket it had closed, a reset that dropped it.
    const tls = createRequire(import.meta.url)('node:tls') as { connect: (...args: unknown[]) => EventEmitter };
    const { connect: tlsConnect } = tls;
    // Busy until past the connect's timeout, counted from the connect's start: however long the handshake took on a
    // loaded machine, the timer is due when the process is free again.
    let busied = 0;
    let started = 0;
    tls.connect = (...args) =>
      tlsConnect(...args).once('secureConnect', () => {
        busied += 1;
        while (Date.now() < started + handshakeTimeoutMs + 100);
      });
    onTestFinished(() => void (tls.connect = tlsConnect));
    started = Date.now();
    const error = await failure(connect({ servers: server.url, connectTimeoutMs: handshakeTimeoutMs, tls: CA_ONLY }));
    expect(busied).toBe(1);
    expectNoCertificateRefusal((error as NatsConnectionError).details);
  });

  it('names a reset once encrypted, and the likely missing certificate when none was given', async () => {
    const resetting = await startMuteTlsServer({ reset: true });
    onTestFinished(() => resetting.close());
    // At once: each waits out its connect's timeout, and neither's outcome depends on the other.
    const [hinted, shown] = await Promise.all([
      failure(connect({ servers: resetting.url, connectTimeoutMs: handshakeTimeoutMs, tls: CA_ONLY })),
      failure(connect({ servers: resetting.url, connectTimeoutMs: handshakeTimeoutMs, tls: CLIENT_TLS })),
    ]);
    expect(hinted).toMatchObject({
      details: { tls: 'reset', reset: expect.stringMatching(RESET), clientCertificate: 'likely_required' },
    });
    expect((hinted as Error).message).toBe(
      `cannot connect to NATS (${resetting.url}); the server closed the connection once the TLS handshake was done ` +
        `(${(hinted as NatsConnectionError).details.reset}): the server likely requires a client certificate, and ` +
        'none was given (tls.certFile, tls.keyFile)',
    );
    expect((shown as NatsConnectionError).details).toEqual({
      status: 'unreachable',
      server: resetting.url,
      tls: 'reset',
      reset: expect.stringMatching(RESET),
    });
    expect(resetting.handshakes()).toBe(2);
  }, 20_000);

  it('with no alert, hints at the client certificate only when the TLS handshake was done and none was given', async () => {
    const mute = await startMuteTlsServer();
    onTestFinished(() => mute.close());
    // At once: each waits out its connect's timeout, and neither's outcome depends on the other.
    const [hinted, shown] = await Promise.all([
      failure(connect({ servers: mute.url, connectTimeoutMs: handshakeTimeoutMs, tls: CA_ONLY })),
      failure(connect({ servers: mute.url, connectTimeoutMs: handshakeTimeoutMs, tls: CLIENT_TLS })),
    ]);
    expect(hinted).toMatchObject({
      message:
        `cannot connect to NATS (${mute.url}); no answer after the TLS handshake (TIMEOUT): the server likely ` +
        'requires a client certificate, and none was given (tls.certFile, tls.keyFile)',
      details: { status: 'unreachable', tls: 'no_answer', clientCertificate: 'likely_required' },
    });
    // A certificate shown: its silence is no sign of one missing.
    expect(shown).toMatchObject({ message: `cannot connect to NATS (${mute.url}); TIMEOUT` });
    expect((shown as NatsConnectionError).details).toEqual({ status: 'unreachable', server: mute.url });
    expect(mute.handshakes()).toBe(2);

    const run = await runCliProcess(['var', 'get', 'x', '-s', 'a', '--nats', mute.url], { NATS_CA: TLS_FILES.ca });
    expect([run.code, run.stderr]).toEqual([
      3,
      `tether: nats_unreachable: cannot reach NATS at ${mute.url}: no answer after the TLS handshake (TIMEOUT): the ` +
        'server likely requires a client certificate, and none was given (NATS_CERT, NATS_KEY)\n',
    ]);
  }, 45_000);

  it('says nothing of TLS for a server that refuses the connection or never answers, TLS files given or not', async () => {
    const port = await closedPort();
    const silent = await startSilentServer();
    onTestFinished(() => silent.close());
    const closed = `nats://127.0.0.1:${port}`;
    for (const tls of [undefined, CA_ONLY]) {
      const options = tls === undefined ? {} : { tls };
      const refused = await failure(connect({ servers: closed, connectTimeoutMs, ...options }));
      expect(refused).toMatchObject({ message: `cannot connect to NATS (${closed}); CONNECTION_REFUSED` });
      expect((refused as NatsConnectionError).details).toEqual({ status: 'unreachable', server: closed });
      const unanswered = await failure(connect({ servers: silent.url, connectTimeoutMs, ...options }));
      expect(unanswered).toMatchObject({ message: `cannot connect to NATS (${silent.url}); TIMEOUT` });
      expect((unanswered as NatsConnectionError).details).toEqual({ status: 'unreachable', server: silent.url });
    }
    const run = await runCliProcess(['var', 'get', 'x', '-s', 'a', '--nats', closed], { NATS_CA: TLS_FILES.ca });
    expect([run.code, run.stderr]).toEqual([
      3,
      `tether: nats_unreachable: cannot reach NATS at ${closed} (CONNECTION_REFUSED)\n`,
    ]);
  }, 20_000);
});
