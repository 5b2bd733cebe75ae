import { describe, expect, it } from 'vitest';
import { reviveOutputDates, withOutputDates } from '../../src/nats/output-dates.js';

/** A result through the wire: marked by the node, sent as JSON, revived by the client. */
const throughTheWire = (output: Record<string, unknown>) => {
  const parsed = JSON.parse(JSON.stringify(withOutputDates({ executionId: 'e', output })));
  reviveOutputDates(parsed);
  return parsed as { output: Record<string, unknown> };
};

describe('output dates on the wire', () => {
  it('names each Date by its JSON Pointer, in lists and objects and under keys with / and ~, and revives it', () => {
    const day = new Date('2024-05-06T00:00:00.000Z');
    const output = { when: day, days: [day, 'not a date'], nested: { 'a/b~c': day }, text: '2024-05-06' };
    expect(new Set((withOutputDates({ output }) as { readonly outputDates: readonly string[] }).outputDates)).toEqual(
      new Set(['/when', '/days/0', '/nested/a~1b~0c']),
    );
    expect(throughTheWire(output)).toEqual({ executionId: 'e', output });
    // Text that only looks like a date stays text.
    expect(throughTheWire(output).output.text).toBe('2024-05-06');
  });

  it('leaves a result without Dates as it is, and sends no field', () => {
    const result = { output: { answer: 'x' } };
    expect(withOutputDates(result)).toBe(result);
  });

  it('turns only parts that are there and hold a date, never through what an object inherits', () => {
    const parsed = JSON.parse(
      '{"output":{"a":"2024-05-06T00:00:00.000Z","n":5,"bad":"soon","list":[]},' +
        '"outputDates":["/a","/n","/bad","/missing/x","/list/3","/__proto__/x","","a",7]}',
    );
    reviveOutputDates(parsed);
    expect(parsed).toEqual({ output: { a: new Date('2024-05-06T00:00:00.000Z'), n: 5, bad: 'soon', list: [] } });
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });
});
