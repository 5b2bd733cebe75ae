/**
 * The `nats req` examples of docs/protocol.md, sent as written (subject, JSON body, `-H` headers) with the plain
 * `nats` package to a real node, in the order of the page: each must get a reply that is not an error. Together
 * they must exercise every operation, so the page has a working example of each. So must the example input of each
 * row of its table of execute inputs by field type, for a field of that type.
 */
import { headers } from 'nats';
import { describe, expect, it } from 'vitest';
import { createEchoModel, createLanguageModel } from '../../src/index.js';
import { MODULE_OPERATIONS, VARIABLE_OPERATIONS } from '../../src/nats/operations.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { documentedInputs, readProtocolDoc } from '../support/protocol-doc.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);

interface Example {
  readonly line: string;
  readonly subject: string;
  readonly body: string;
  readonly headers: readonly (readonly [string, string])[];
}

/** Every `nats req <subject> '<json>' [-H 'Name:value']...` line of the doc's `sh` blocks, in order. */
function examples(): Example[] {
  const doc = readProtocolDoc();
  const blocks = [...doc.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((match) => match[1]!);
  return blocks
    .flatMap((block) => block.split('\n'))
    .filter((line) => line.startsWith('nats req '))
    .map((line) => {
      const match = /^nats req (\S+) '([^']*)'((?: -H '[^':]+:[^']*')*)$/.exec(line);
      if (!match) throw new Error(`docs/protocol.md: cannot read the example: ${line}`);
      const sent = [...match[3]!.matchAll(/-H '([^':]+):([^']*)'/g)].map((h) => [h[1]!, h[2]!] as const);
      return { line, subject: match[1]!, body: match[2]!, headers: sent };
    });
}

describe('docs/protocol.md examples', () => {
  it('every nats req example gets a reply that is not an error, from a real node', async () => {
    const all = examples();
    // Every operation has an example: the last token of a session or module subject is its operation.
    const operations = new Set(all.map((example) => example.subject.split('.').slice(4).join('.')));
    for (const operation of VARIABLE_OPERATIONS) expect(operations).toContain(`var.${operation}`);
    const moduleOperations = new Set(
      all.flatMap((example) => {
        const tokens = example.subject.split('.');
        return tokens[4] === 'module' ? [tokens.at(-1)!] : [];
      }),
    );
    for (const operation of [...MODULE_OPERATIONS, 'list']) expect(moduleOperations).toContain(operation);
    expect(operations).toContain('open');
    expect(operations).toContain('delete');

    await fx().node(fx().buckets(), { llm: createLanguageModel({ provider: 'tether-echo' }) });
    const failures: string[] = [];
    for (const example of all) {
      const h = headers();
      for (const [name, value] of example.headers) h.set(name, value);
      const reply = await nc().request(example.subject, new TextEncoder().encode(example.body), {
        timeout: 10_000,
        headers: h,
      });
      const body = reply.json<{ result?: unknown; error?: unknown }>();
      if (reply.headers?.get('Nats-Service-Error-Code') || !('result' in body))
        failures.push(`${example.line}\n  → ${JSON.stringify(body).slice(0, 400)}`);
    }
    expect(failures).toEqual([]);
  });

  it('every example input of the table of field types is taken by a real node, for a field of that type', async () => {
    await fx().node(fx().buckets(), { llm: createEchoModel() });
    const request = async (subject: string, body: object) =>
      (await nc().request(subject, new TextEncoder().encode(JSON.stringify(body)), { timeout: 10_000 })).json<{
        result?: unknown;
        error?: unknown;
      }>();
    await request('tether.v1.session.inputs.open', {});
    const refused: string[] = [];
    for (const [index, { type, example }] of documentedInputs().entries()) {
      const fieldType = type === '<type>[]' ? 'number[]' : type;
      const module = `tether.v1.session.inputs.module.m${index}`;
      const signature = `question:string, sample:${fieldType} -> answer:string`;
      const created = await request(`${module}.create`, { spec: { type: 'Predict', signature } });
      const executed = await request(`${module}.execute`, { inputs: { question: 'q', sample: example } });
      for (const reply of [created, executed])
        if (!('result' in reply)) refused.push(`${type}: ${JSON.stringify(reply.error).slice(0, 300)}`);
    }
    expect(refused).toEqual([]);
  });
});
