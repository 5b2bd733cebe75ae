/**
 * docs/protocol.md as the tests read it: the page a client in another language works from. One reader, so the test
 * that checks the page against the code and the tests that check replies against the page agree on what it says.
 * @module
 */
import { readFileSync } from 'node:fs';

/** The text of docs/protocol.md. */
export function readProtocolDoc(): string {
  return readFileSync(new URL('../../docs/protocol.md', import.meta.url), 'utf8');
}

/**
 * The rows of the page's error table: each documented code with the status the page gives it.
 * @example
 * documentedErrorStatuses().get('validation_failed'); // 400
 */
export function documentedErrorStatuses(doc: string = readProtocolDoc()): Map<string, number> {
  return new Map([...doc.matchAll(/^\| `([a-z_]+)` +\| (\d{3}) +\|/gm)].map((match) => [match[1]!, Number(match[2])]));
}
