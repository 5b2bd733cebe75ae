import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { MAX_JSON_DEPTH } from '../../src/index.js';
import { ChainOfThoughtWithHint, Predict, createEchoModel } from '../../src/modules/index.js';

const llm = createEchoModel();
const SIGNATURE =
  'question:string, count?:number, tags:string[], settings:json, urgent?:boolean, due?:date, photo?:image -> answer:string';
const valid = { question: 'q', tags: ['a'], settings: { depth: 1 } };

/** The error `forward` rejects with for `inputs`. */
async function refusal(inputs: Record<string, unknown>, module = new Predict(SIGNATURE, { llm })) {
  return (await module.forward(inputs).catch((error: unknown) => error)) as ValidationError;
}

describe('input fields', () => {
  it('runs inputs that match the signature, optional fields absent, null or given', async () => {
    const module = new Predict(SIGNATURE, { llm });
    expect((await module.forward(valid)).output.answer).toContain('Question: q');
    const full = {
      ...valid,
      count: 2,
      urgent: false,
      due: '2024-01-01',
      photo: { mimeType: 'image/png', data: 'AA==' },
    };
    expect((await module.forward(full)).output.answer).toContain('Count: 2');
    expect((await module.forward({ ...valid, count: null, settings: '{"depth":1}' })).output.answer).toContain(
      'Question: q',
    );
  });

  it.each([
    [{ tags: ['a'], settings: {} }, 'question', "input field 'question' (a string) is required and was not given"],
    [{ ...valid, question: '' }, 'question', "input field 'question' (a string) is required and was an empty string"],
    [{ ...valid, question: null }, 'question', "input field 'question' (a string) is required and was null"],
    [{ ...valid, tags: [] }, 'tags', "input field 'tags' (a list of strings) is required and was an empty list"],
    [{ ...valid, question: 5 }, 'question', "input field 'question' must be a string, got a number (5)"],
    [{ ...valid, tags: 'a' }, 'tags', 'input field \'tags\' must be a list of strings, got a string ("a")'],
    [{ ...valid, tags: ['a', 2] }, 'tags', "input field 'tags' must be a list of strings, got a list"],
    [
      { ...valid, settings: 5 },
      'settings',
      "input field 'settings' must be a JSON object, list or string, got a number (5)",
    ],
    [{ ...valid, count: '2' }, 'count', 'input field \'count\' must be a finite number, got a string ("2")'],
    [{ ...valid, urgent: 'yes' }, 'urgent', 'input field \'urgent\' must be a boolean, got a string ("yes")'],
    [
      { ...valid, photo: 'cat.png' },
      'photo',
      'input field \'photo\' must be an image ({ mimeType, data }, both strings), got a string ("cat.png")',
    ],
    // Ax formatted it and threw "Invalid time value": internal_error.
    [
      { ...valid, due: new Date(Number.NaN) },
      'due',
      "input field 'due' must be a date (string or Date), got an invalid Date",
    ],
    // A list where the signature declares one value: Ax itself refuses it (a plain error, once internal_error).
    [{ ...valid, due: ['2024-01-01'] }, 'due', "input field 'due' must be a date (string or Date), got a list"],
    [
      { ...valid, photo: [{ mimeType: 'image/png', data: 'AA==' }] },
      'photo',
      "input field 'photo' must be an image ({ mimeType, data }, both strings), got a list",
    ],
  ])('refuses %j with a ValidationError naming %s', async (inputs, field, message) => {
    const error = await refusal(inputs);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.code).toBe('validation_failed');
    expect(error.message).toBe(message);
    expect(error.details).toMatchObject({ field });
  });

  // Found by a review: each of these passed the check and failed inside Ax as the program's internal_error.
  it.each([
    ['question:audio', 'x', 'must be audio ({ data, format? }, strings), got a string ("x")'],
    ['question:audio', { id: 'x' }, 'must be audio ({ data, format? }, strings), got an object'],
    ['question:audio', { data: 1 }, 'must be audio ({ data, format? }, strings), got an object'],
    ['question:audio[]', ['a'], 'must be a list of audio items, got a list'],
    ['question:url', 'not a url', 'must be a URL (a string such as https://example.com), got a string (\"not a url\")'],
    [
      'question:url',
      { url: 'https://example.com' },
      'must be a URL (a string such as https://example.com), got an object',
    ],
    ['question:image', { mimeType: 1, data: 2 }, 'must be an image ({ mimeType, data }, both strings), got an object'],
    [
      'question:file',
      { mimeType: 'application/pdf', data: 'AA==', fileUri: 'gs://a' },
      'must be a file ({ mimeType, data } or { mimeType, fileUri }, strings), got an object',
    ],
  ])('refuses a %s input of the wrong shape before Ax: %j', async (fields, question, message) => {
    const error = await refusal({ question }, new Predict(`${fields} -> answer:string`, { llm }));
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.message).toBe(`input field 'question' ${message}`);
  });

  it('runs media inputs of the shapes Ax takes', async () => {
    for (const [fields, question] of [
      ['question:audio', { data: 'AA==', format: 'mp3' }],
      ['question:url', 'https://example.com/a'],
      ['question:file', { mimeType: 'application/pdf', fileUri: 'gs://bucket/a.pdf' }],
    ] as const) {
      const module = new Predict(`${fields} -> answer:string`, { llm });
      expect((await module.forward({ question })).output.answer).toContain('tether-echo');
    }
  });

  it('refuses a bigint anywhere inside an object input, naming where: Ax writes objects as JSON', async () => {
    // It failed inside Ax as the LLM program's error: internal_error "Do not know how to serialize a BigInt".
    const error = await refusal({ ...valid, settings: { limits: [1, { max: 10n }] } });
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.message).toBe(
      "input field 'settings' holds a bigint at settings.limits[1].max, which JSON cannot carry",
    );
    expect(error.details).toMatchObject({ field: 'settings', path: 'settings.limits[1].max', got: 'a bigint' });
    const listed = await refusal({ ...valid, settings: [2n] });
    expect(listed.message).toBe("input field 'settings' holds a bigint at settings[0], which JSON cannot carry");
  });

  it('takes an object input as deep as a json variable may be, and refuses one level more', async () => {
    const nested = (depth: number): unknown => (depth === 0 ? 1 : [nested(depth - 1)]);
    const module = new Predict(SIGNATURE, { llm });
    expect((await module.forward({ ...valid, settings: nested(MAX_JSON_DEPTH) })).output.answer).toContain(
      'Question: q',
    );
    const error = await refusal({ ...valid, settings: nested(MAX_JSON_DEPTH + 1) }, module);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.message).toBe(`input field 'settings' is nested deeper than ${MAX_JSON_DEPTH} levels`);
    expect(error.details).toEqual({ field: 'settings', constraint: 'depth' });
  });

  it("refuses an input whose reading throws (a caller's getter or proxy) as unreadable, naming where", async () => {
    // The getter's throw came out of Ax as it was, a plain Error (or whatever was thrown), not as the caller's mistake.
    const nested = await refusal({
      ...valid,
      settings: {
        limits: [
          1,
          {
            get max(): number {
              throw new Error('boom');
            },
          },
        ],
      },
    });
    expect(nested).toBeInstanceOf(ValidationError);
    expect(nested.message).toBe("input field 'settings' at settings.limits[1].max could not be read: boom");
    expect(nested.details).toEqual({ field: 'settings', path: 'settings.limits[1].max', constraint: 'unreadable' });
    // Listing an object's members threw: the path ends at the object.
    const unlisted = new Proxy(
      {},
      {
        ownKeys: () => {
          throw 'no keys';
        },
      },
    );
    const listing = await refusal({ ...valid, settings: { inner: unlisted } });
    expect(listing.message).toBe("input field 'settings' at settings.inner could not be read: no keys");
    // A list item's type is judged before its members are walked: a proxy throwing there names the field.
    const tags = new Proxy(['a'], {
      get: (target, key) => {
        if (key === 'length') throw new Error('len');
        return Reflect.get(target, key);
      },
    });
    const listed = await refusal({ ...valid, tags });
    expect(listed.message).toBe("input field 'tags' could not be read: len");
    expect(listed.details).toEqual({ field: 'tags', path: 'tags', constraint: 'unreadable' });
    // The inputs themselves, before any field is judged.
    const inputs = new Proxy(valid, {
      ownKeys: () => {
        throw new Error('none');
      },
    });
    const whole = await refusal(inputs);
    expect(whole.message).toBe('the input fields could not be read: none');
    expect(whole.details).toEqual({ constraint: 'unreadable' });
  });

  it('refuses a number that is not finite, which no provider could be sent', async () => {
    expect((await refusal({ ...valid, count: Number.NaN })).details).toMatchObject({ field: 'count' });
    // Inside an object input, JSON would have written it as null (the wire's 1e400 parses as Infinity).
    const nested = await refusal({ ...valid, settings: { max: Number.POSITIVE_INFINITY } });
    expect(nested.message).toBe("input field 'settings' holds Infinity at settings.max, which JSON cannot carry");
    expect(nested.details).toMatchObject({ field: 'settings', path: 'settings.max', got: 'Infinity' });
    expect((await refusal({ ...valid, settings: [1, Number.NaN] })).details).toMatchObject({ path: 'settings[1]' });
  });

  it('refuses a field the signature does not have, listing the ones it has, and ignores one left undefined', async () => {
    const error = await refusal({ ...valid, qestion: 'typo' });
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.message).toMatch(/^unknown input field 'qestion'; this program takes: question \(a string\), count/);
    expect(error.details).toMatchObject({ field: 'qestion', accepted: expect.arrayContaining(['question', 'tags']) });
    expect((await new Predict(SIGNATURE, { llm }).forward({ ...valid, extra: undefined })).output).toBeDefined();
  });

  it('names a misspelt field as unknown, not the required field it misses, and before a wrong value', async () => {
    const { question: _left, ...withoutQuestion } = valid;
    const misspelt = await refusal({ ...withoutQuestion, qestion: 'typo' });
    expect(misspelt.details).toMatchObject({ field: 'qestion' });
    expect(misspelt.message).toMatch(/^unknown input field 'qestion'; this program takes: question \(a string\)/);
    expect((await refusal({ ...valid, count: 'three', extra: 1 })).details).toMatchObject({ field: 'extra' });
  });

  it("takes ChainOfThoughtWithHint's optional hint, which Predict refuses", async () => {
    const signature = 'question:string -> answer:string';
    const hinted = await new ChainOfThoughtWithHint(signature, { llm }).forward({ question: 'q', hint: 'h' });
    expect(hinted.output.answer).toContain('Hint: h');
    expect((await refusal({ question: 'q', hint: 'h' }, new Predict(signature, { llm }))).details).toMatchObject({
      field: 'hint',
    });
  });

  it('takes fields named like built-ins of every object (toString, constructor) as given only when given', async () => {
    const module = new Predict('question:string, toString?:string, constructor:string -> answer:string', { llm });
    // Left out, the optional one is absent, not the function every object inherits: the execution runs.
    const answer = (await module.forward({ question: 'q', constructor: 'c' })).output.answer as string;
    expect(answer).toContain('Constructor: c');
    expect(answer).not.toContain('function');
    expect((await module.forward({ question: 'q', constructor: 'c', toString: 't' })).output.answer).toContain('t');
    expect((await refusal({ question: 'q' }, module)).message).toBe(
      "input field 'constructor' (a string) is required and was not given",
    );
  });

  it('stays usable after a refusal', async () => {
    const module = new Predict(SIGNATURE, { llm });
    await expect(module.forward({})).rejects.toBeInstanceOf(ValidationError);
    expect((await module.forward(valid)).output.answer).toContain('Question: q');
  });
});
