/**
 * What a failed connect's error tells of TLS, for the alerts and paths a test nats-server does not give
 * (tls-refusal.nats.test.ts has those it does): an alert that fails the handshake itself, as over TLS 1.2, and
 * alerts that point to a missing certificate only likely, or not at all.
 */
import { ErrorCode, NatsError } from 'nats';
import { describe, expect, it } from 'vitest';
import { tlsRefusalIn, tlsRefusalNote, tlsRefusalOf } from '../../src/nats/tls-refusal.js';

/** Node's error of a TLS alert the server sent, as its `code` names it. */
function alertError(code: string): Error {
  return Object.assign(new Error(`SSL routines:ssl3_read_bytes:${code}`), { code });
}

describe('tls-refusal', () => {
  it('reads an alert the connect failed with, or that nats.js chained', () => {
    const tls12 = alertError('ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE');
    expect(tlsRefusalOf(tls12, false)).toEqual({
      tls: 'alert',
      alert: 'bad certificate',
      clientCertificate: 'required',
    });
    const chained = new NatsError('tls', ErrorCode.Tls, alertError('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED'));
    expect(tlsRefusalOf(chained, false)).toEqual({
      tls: 'alert',
      alert: 'certificate required',
      clientCertificate: 'required',
    });
  });

  it('takes a handshake failure for a likely missing certificate, and no other alert for one', () => {
    const failure = tlsRefusalOf(alertError('ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE'), false);
    expect(failure).toEqual({ tls: 'alert', alert: 'handshake failure', clientCertificate: 'likely_required' });
    expect(tlsRefusalNote(failure!)).toBe(
      "the server refused the TLS handshake (alert 'handshake failure'): it likely requires a client certificate, " +
        'and none was given (tls.certFile, tls.keyFile)',
    );
    expect(tlsRefusalOf(alertError('ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION'), false)).toEqual({
      tls: 'alert',
      alert: 'protocol version',
    });
    // A certificate was given: whatever the alert, none is missing.
    expect(tlsRefusalOf(alertError('ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE'), true)).toEqual({
      tls: 'alert',
      alert: 'handshake failure',
    });
  });

  it('tells nothing of an error that is no alert, nor of a timeout no encrypted transport was given up with', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    for (const error of [refused, NatsError.errorForCode(ErrorCode.Timeout), undefined, 'TIMEOUT'])
      expect(tlsRefusalOf(error, false)).toBeUndefined();
  });

  it('reads back from error details only a refusal it could have made', () => {
    expect(tlsRefusalIn({ tls: 'alert', alert: 'bad certificate', clientCertificate: 'required' })).toEqual({
      tls: 'alert',
      alert: 'bad certificate',
      clientCertificate: 'required',
    });
    expect(tlsRefusalIn({ tls: 'no_answer', clientCertificate: 'likely_required' })).toEqual({
      tls: 'no_answer',
      clientCertificate: 'likely_required',
    });
    const reset = { tls: 'reset', reset: 'ECONNRESET', clientCertificate: 'likely_required' } as const;
    expect(tlsRefusalIn(reset)).toEqual(reset);
    expect(tlsRefusalNote(reset, { caFile: 'NATS_CA', certFile: 'NATS_CERT', keyFile: 'NATS_KEY' })).toBe(
      'the server closed the connection once the TLS handshake was done (ECONNRESET): the server likely requires a ' +
        'client certificate, and none was given (NATS_CERT, NATS_KEY)',
    );
    expect(tlsRefusalIn({ tls: 'reset', reset: 'EPIPE' })).toEqual({ tls: 'reset', reset: 'EPIPE' });
    for (const details of [
      {},
      { tls: 'not_offered', requiredBy: 'url' },
      { tls: 'alert' },
      { tls: 'no_answer' },
      { tls: 'reset' },
      { tls: 'reset', reset: 'ECONNRESET', clientCertificate: 'required' },
    ])
      expect(tlsRefusalIn(details)).toBeUndefined();
  });
});
