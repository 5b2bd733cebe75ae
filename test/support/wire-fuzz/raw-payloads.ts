/**
 * Payloads broken below the JSON tree: not an object, not JSON, not UTF-8, truncated, with a byte-order mark, or
 * nested past any parser's patience. Each is written from the text of a well-formed payload.
 * @module
 */
import type { FuzzRandom } from './random.js';

/** The ways {@link rawPayload} breaks a payload. */
export const RAW_MODES = [
  'empty',
  'null',
  'array',
  'number',
  'string',
  'true',
  'utf8',
  'truncate',
  'trailing',
  'nan',
  'bom',
  'deep',
  'surrogate-bytes',
] as const;

/** One of {@link RAW_MODES}. */
export type RawMode = (typeof RAW_MODES)[number];

/**
 * Whether a node must refuse a payload broken this way with `validation_failed`, whatever the operation: bytes
 * that are no UTF-8 always; others when the text is no JSON object (`parsed` is `undefined`). An empty payload is
 * `{}` on the wire.
 */
export function rawModeMustBeRefused(mode: RawMode, parsed: object | undefined): boolean {
  return mode !== 'empty' && (parsed === undefined || mode === 'utf8' || mode === 'surrogate-bytes');
}

const encoder = new TextEncoder();

/**
 * The bytes of `text` broken as `mode` says, and their text for the report (bytes that are no UTF-8 are shown as
 * the text they were cut into).
 */
export function rawPayload(random: FuzzRandom, mode: RawMode, text: string): { data: Uint8Array; text: string } {
  const as = (written: string) => ({ data: encoder.encode(written), text: written });
  switch (mode) {
    case 'empty':
      return { data: new Uint8Array(), text: '' };
    case 'null':
      return as('null');
    case 'array':
      return as(`[${text}]`);
    case 'number':
      return as('42');
    case 'string':
      return as(JSON.stringify(text));
    case 'true':
      return as('true');
    case 'utf8': {
      const bytes = encoder.encode(text);
      // Inside the first string, so that the parser has begun the object when it meets the bad bytes.
      const at = Math.max(1, Math.min(bytes.length - 2, text.indexOf('"') + 2));
      const bad = random.pick([[0xff], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0x80]]);
      return { data: new Uint8Array([...bytes.slice(0, at), ...bad, ...bytes.slice(at)]), text };
    }
    case 'surrogate-bytes': {
      // A lone surrogate encoded CESU-style inside a string value: invalid UTF-8 that lenient decoders accept.
      const head = `{"name":"s","value":"`;
      return {
        data: new Uint8Array([...encoder.encode(head), 0xed, 0xa0, 0x80, ...encoder.encode('"}')]),
        text: `${head}<ED A0 80>"}`,
      };
    }
    case 'truncate':
      return as(text.slice(0, Math.max(1, random.int(text.length))));
    case 'trailing':
      return as(`${text} x`);
    case 'nan':
      return as(text.replace(/\d+(\.\d+)?/, 'NaN'));
    case 'bom':
      return as(`\ufeff${text}`);
    case 'deep':
      return as(`{"name":${'['.repeat(100_000)}${']'.repeat(100_000)}}`);
  }
}
