/**
 * The TLS files a connection to NATS may take: the CA that signed the server's certificate (a private CA), and a
 * client certificate with its key (a server that verifies its clients). Checked before connecting, so that a wrong
 * path or a key of another certificate is told as such, not as a server that cannot be reached.
 * @module
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ValidationError } from '../errors.js';
import { assertOptionKeys, optionKeys } from '../option-keys.js';
import { show } from '../variables/failure.js';
import { messageOf } from '../printable.js';

/**
 * PEM files of TLS. Any of them makes TLS required, as a `tls://` URL does. nats.js reads them again at each
 * reconnect, so files replaced in place (a renewed certificate) are used from the next connection on.
 */
export interface NatsTlsFiles {
  /** The CA certificate(s) to trust for the server's certificate, in place of the system's. */
  readonly caFile?: string;
  /** This client's certificate, for a server that verifies clients (`verify: true`); needs `keyFile`. */
  readonly certFile?: string;
  /** The private key of `certFile`, unencrypted (nats.js takes no passphrase); needs `certFile`. */
  readonly keyFile?: string;
}

/** The keys a {@link NatsTlsFiles} takes; any other is refused. */
const TLS_KEYS = optionKeys<NatsTlsFiles>({ caFile: true, certFile: true, keyFile: true });

/** What each file is called in messages: the option's path by default, an environment variable's name for the CLI. */
export type TlsFileNames = { readonly [K in keyof NatsTlsFiles]-?: string };

/** The files' names as the connection options have them. */
export const TLS_OPTION_NAMES: TlsFileNames = {
  caFile: 'tls.caFile',
  certFile: 'tls.certFile',
  keyFile: 'tls.keyFile',
};

/** The label of PEM text (`-----BEGIN PRIVATE KEY-----`), which no file's path holds. */
const PEM_LABEL = /-----BEGIN ([A-Z0-9 ]+)-----/;

/**
 * Throws `ValidationError` naming the file (`details.field`, and `details.path`) unless `tls` is absent or a
 * {@link NatsTlsFiles} whose files can be read and hold what they should: certificates in PEM, an unencrypted
 * private key that is the key of the certificate, the certificate and its key given together.
 */
export function assertTlsFiles(owner: string, tls: unknown, names: TlsFileNames = TLS_OPTION_NAMES): void {
  if (tls === undefined) return;
  assertOptionKeys(tls, `${owner} tls`, TLS_KEYS);
  const files = tls as NatsTlsFiles;
  for (const field of ['caFile', 'certFile', 'keyFile'] as const) {
    const path = files[field];
    if (path !== undefined && (typeof path !== 'string' || path === ''))
      throw refusal(names[field], field, `must be the path of a file, got ${show(path)}`);
    // Never quoted, as a path is below: a file's contents given in its place (as a secret store hands a key to an
    // environment variable) would put the private key in the message, on stderr and in `details.path`.
    const pem = typeof path === 'string' ? PEM_LABEL.exec(path)?.[1] : undefined;
    if (pem !== undefined) {
      const what = pem.includes('PRIVATE KEY') ? 'a private key' : pem === 'CERTIFICATE' ? 'a certificate' : pem;
      throw refusal(
        names[field],
        field,
        `must be the path of a file, got PEM text (${what}): give the path of a file holding it`,
      );
    }
  }
  if ((files.certFile === undefined) !== (files.keyFile === undefined)) {
    const [given, missing] =
      files.certFile === undefined ? (['keyFile', 'certFile'] as const) : (['certFile', 'keyFile'] as const);
    throw refusal(names[missing], missing, `is needed with ${names[given]}: a client certificate goes with its key`);
  }
  if (files.caFile !== undefined) certificateIn(files.caFile, names.caFile, 'caFile');
  if (files.certFile === undefined || files.keyFile === undefined) return;
  const certificate = certificateIn(files.certFile, names.certFile, 'certFile');
  const keyPath = files.keyFile;
  const keyBytes = read(keyPath, names.keyFile, 'keyFile');
  let key;
  try {
    key = createPrivateKey(keyBytes);
  } catch (error) {
    const problem = `'${keyPath}' holds no unencrypted private key (${messageOf(error)})`;
    throw refusal(names.keyFile, 'keyFile', problem, { path: keyPath });
  }
  if (!certificate.checkPrivateKey(key)) {
    const problem = `'${keyPath}' is not the key of ${names.certFile} '${files.certFile}'`;
    throw refusal(names.keyFile, 'keyFile', problem, { path: keyPath });
  }
}

/** The first certificate of the PEM file at `path`. */
function certificateIn(path: string, name: string, field: keyof NatsTlsFiles): X509Certificate {
  const text = read(path, name, field);
  try {
    return new X509Certificate(text);
  } catch (error) {
    throw refusal(name, field, `'${path}' holds no PEM certificate (${messageOf(error)})`, { path });
  }
}

/** The bytes of the file at `path`; one that cannot be read is refused, naming it and why (`ENOENT`, `EACCES`...). */
function read(path: string, name: string, field: keyof NatsTlsFiles): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw refusal(name, field, `cannot read '${path}'${code === undefined ? '' : ` (${code})`}`, { path });
  }
}

/** The `ValidationError` of a TLS file: `<name> <problem>`, `details.field` the option's path whatever `name` is. */
function refusal(name: string, field: keyof NatsTlsFiles, problem: string, details: object = {}): ValidationError {
  return new ValidationError(`${name} ${problem}`, { details: { field: `tls.${field}`, ...details } });
}
