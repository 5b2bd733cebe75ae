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

/**
 * The statuses the README's Errors section gives, from its sentence `with a status in the Nats-Service-Error-Code
 * header: 400 \`a\`; 404 \`b\`, \`c\`; ...; 500 every other code`: each code it names with the status before it.
 * Throws when the sentence is not there, so a rewording cannot leave the comparison empty.
 */
export function readmeErrorStatuses(readme: string): Map<string, number> {
  const section = /^## Errors\n([\s\S]*?)^## /m.exec(readme)?.[1] ?? '';
  const sentence = /`Nats-Service-Error-Code` header: ([\s\S]*?); 500 every other code/.exec(section)?.[1];
  if (sentence === undefined) throw new Error("README.md: no '`Nats-Service-Error-Code` header: 400 ...' in Errors");
  const statuses = new Map<string, number>();
  for (const group of sentence.split(';')) {
    const [, status, codes] = /^\s*(\d{3})\s+([\s\S]+)$/.exec(group) ?? [];
    if (status === undefined || codes === undefined) throw new Error(`README.md: cannot read '${group.trim()}'`);
    for (const code of codes.matchAll(/`([a-z_]+)`/g)) statuses.set(code[1]!, Number(status));
  }
  return statuses;
}

/** A row of the page's table of execute inputs: a signature field type and the example input it gives for it. */
export interface DocumentedInput {
  /** As the first cell names it: `number`, `image`, `<type>[]`. */
  readonly type: string;
  /** The example cell's JSON, parsed. */
  readonly example: unknown;
}

/**
 * The rows of the page's table of execute inputs by field type (the one headed `| field type`), in order.
 * @example
 * documentedInputs().find((row) => row.type === 'number')?.example; // 3.5
 */
export function documentedInputs(doc: string = readProtocolDoc()): DocumentedInput[] {
  const table = /^\| field type +\|.*\n\|[- |]+\|\n((?:\|.*\n)+)/m.exec(doc)?.[1];
  if (table === undefined) throw new Error('docs/protocol.md: no table of execute inputs (| field type | ...)');
  return table
    .trimEnd()
    .split('\n')
    .map((row) => {
      const match = /^\| `([^`]+)` +\|.*\| `([^`]+)`[^|]*\|$/.exec(row);
      if (!match) throw new Error(`docs/protocol.md: cannot read the input row: ${row}`);
      return { type: match[1]!, example: JSON.parse(match[2]!) as unknown };
    });
}
