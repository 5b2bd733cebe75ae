/**
 * What a NATS connection's name may be: the one check `connect`, `subscribeEvents`, `Runtime.start({ nats })` and
 * `tether serve --name` share, each saying it in its own words.
 * @module
 */
import { UNPRINTABLE, codePointName } from '../printable.js';

/**
 * The most bytes a connection's name may take as the server reads it (JSON in its CONNECT line, which the server reads
 * 4 KiB of by default, or closes the connection). Credentials are the server's to judge: one that raised its limit
 * for long tokens takes them.
 */
export const MAX_NAME_BYTES = 1024;

/** Why a name was refused: the constraint, its words (after the option's name), and what the details add. */
export interface ConnectionNameFault {
  readonly constraint: 'minLength' | 'printable' | 'maxBytes';
  /** Read after the option's name: `… 'name' must not be empty`, `--name must not be empty`. */
  readonly reason: string;
  readonly details: Readonly<Record<string, unknown>>;
}

/**
 * Why `name` cannot name a connection, or `undefined` when it can. An empty name shows as nothing in the server's
 * monitoring and in `serve`'s start line; a line break or another control character (or a line separator) split the
 * one-line start message and the inspect feed's node name, and an escape sequence reached the reader's terminal.
 * Too long, the server closed the connection, and the caller heard that the server could not be reached.
 */
export function connectionNameFault(name: string): ConnectionNameFault | undefined {
  if (name === '') return { constraint: 'minLength', reason: 'must not be empty', details: { minLength: 1 } };
  const unprintable = UNPRINTABLE.exec(name);
  if (unprintable) {
    const character = codePointName(unprintable[0].charCodeAt(0));
    // Counted in code points, as a reader counts characters (an emoji before it is one, not two).
    const position = [...name.slice(0, unprintable.index)].length + 1;
    return {
      constraint: 'printable',
      reason:
        `holds ${character} at character ${position}: a connection name is one line of text, without control ` +
        'characters or line breaks',
      details: { character, position },
    };
  }
  const bytes = Buffer.byteLength(JSON.stringify(name)) - 2;
  if (bytes > MAX_NAME_BYTES)
    return {
      constraint: 'maxBytes',
      reason: `takes ${bytes} bytes as the server reads it (JSON); at most ${MAX_NAME_BYTES}`,
      details: { bytes, maxBytes: MAX_NAME_BYTES },
    };
  return undefined;
}
