import { beforeEach, describe, expect, it } from 'vitest';
import { ValidationError, parseWireSpec } from '../../src/index.js';
import { useStubbedSession } from '../support/stubbed-session.js';
import { text } from '../support/openai-stub.js';

const { stub, session } = useStubbedSession('bindings');

const base = { type: 'Predict', signature: 'question:string -> answer:string', maxRetries: 0 };

describe('a module spec binding', () => {
  beforeEach(async () => {
    await session().defineVariable('t', 'float', 0.5);
  });

  it('refuses an attribute no module reads, listing the bindable ones, and creates nothing', async () => {
    const error = await session()
      // @ts-expect-error: a misspelt attribute fails to compile too; refused at runtime for a JavaScript caller
      .module('m', { ...base, bindings: { temprature: 't' } })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).message).toMatch(/unknown attribute 'temprature'; bindable: temperature, /);
    expect((error as ValidationError).details).toMatchObject({
      attribute: 'temprature',
      accepted: expect.arrayContaining(['temperature', 'instructions', 'samples']),
    });
    expect(await session().modules()).toEqual([]);
    expect(stub().chatRequests).toEqual([]);
    // The JSON form, which the NATS create endpoint reads, is refused the same way.
    expect(() => parseWireSpec({ ...base, bindings: { temprature: 't' } })).toThrow(/unknown attribute 'temprature'/);
  });

  it('refuses a binding object with a key other than variable and onChange, or an onChange that is no function', async () => {
    const cases: [unknown, RegExp][] = [
      [{ variable: 't', foo: 1 }, /^binding of 'temperature' has unknown keys: foo; accepted: variable, onChange$/],
      [{ variable: 't', onChange: 5 }, /^binding of 'temperature': onChange must be a function, got number$/],
    ];
    for (const [binding, message] of cases) {
      const error = await session()
        .module('m', { ...base, bindings: { temperature: binding } } as never)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).message).toMatch(message);
    }
    expect(await session().modules()).toEqual([]);
  });

  it('keeps sending the last good model when its variable is set to an empty name, and says so', async () => {
    stub().fallback = () => text('Answer: ok');
    await session().defineVariable('mdl', 'string', 'gpt-4o');
    const qa = await session().module('m', { ...base, bindings: { model: 'mdl' } });
    await qa.execute({ question: 'q' });
    await session().setVariable('mdl', '');
    const held = await qa.execute({ question: 'q' });
    expect(held.syncFailed).toMatchObject({
      code: 'validation_failed',
      message: expect.stringContaining('attribute \'model\' needs a model name, got ""'),
    });
    expect(stub().chatRequests.map((request) => request.body.model)).toEqual(['gpt-4o', 'gpt-4o']);
  });

  it('keeps sending the last good model when its variable holds only spaces or a padded name, and says so', async () => {
    stub().fallback = () => text('Answer: ok');
    await session().defineVariable('mdl', 'string', 'gpt-4o');
    const qa = await session().module('m', { ...base, bindings: { model: 'mdl' } });
    await qa.execute({ question: 'q' });
    for (const name of ['   ', ' gpt-4o-mini', 'gpt-4o-mini\n']) {
      await session().setVariable('mdl', name);
      const held = await qa.execute({ question: 'q' });
      expect(held.syncFailed, JSON.stringify(name)).toMatchObject({
        code: 'validation_failed',
        message: expect.stringContaining(`attribute 'model' needs a model name`),
        details: { field: 'model', variable: 'mdl' },
      });
    }
    expect(stub().chatRequests.map((request) => request.body.model)).toEqual(Array(4).fill('gpt-4o'));
    // A spec's own model is refused alike at creation, and nothing is created.
    await expect(session().module('n', { ...base, model: ' ' })).rejects.toMatchObject({
      code: 'validation_failed',
      details: { field: 'model' },
    });
    expect((await session().modules()).map((module) => module.moduleId)).toEqual(['m']);
  });

  it('sends the temperature a correct binding reads', async () => {
    const m = await session().module('m', { ...base, bindings: { temperature: { variable: 't' } } });
    const result = await m.execute({ question: 'q' });
    expect(stub().chatRequests.map((request) => request.body.temperature)).toEqual([0.5]);
    expect(result.provenance).toEqual({ t: 1 });
  });

  it('names the part of a spec that is wrong in details.field: its signature, its type', async () => {
    const cases: [object, string][] = [
      [{ type: 'Predict' }, 'signature'],
      [{ type: 'Predict', signature: 'q -> a' }, 'signature'],
      [{ signature: base.signature }, 'type'],
      [{ type: 5, signature: base.signature }, 'type'],
      [{ ...base, typeVariable: 'kind' }, 'typeVariable'],
    ];
    for (const [spec, field] of cases) {
      const error = await session()
        .module('m', spec as never)
        .catch((e: unknown) => e);
      expect(error, JSON.stringify(spec)).toMatchObject({ code: 'validation_failed', details: { field } });
    }
    // Neither, or both: which one decides the type would be a guess.
    for (const spec of [{ signature: base.signature }, { ...base, typeVariable: 'kind' }])
      await expect(session().module('m', spec as never)).rejects.toThrow(
        'a module spec needs exactly one of type or typeVariable',
      );
    expect(await session().modules()).toEqual([]);
  });

  it('names the item that is not a string when stopSequences is given or bound a list', async () => {
    await session().defineVariable('stops', 'json', ['END', 2]);
    const cases: [object, string, number][] = [
      [{ ...base, bindings: { stopSequences: 'stops' } }, 'got 2 at index 1', 1],
      [{ ...base, stopSequences: [null, 'END'] }, 'got null at index 0', 0],
      [{ ...base, stopSequences: ['END', ['STOP']] }, 'got an array at index 1', 1],
    ];
    for (const [spec, got, index] of cases) {
      const error = await session()
        .module('m', spec as never)
        .catch((e: unknown) => e);
      expect(error, JSON.stringify(spec)).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).message).toContain(`attribute 'stopSequences' needs a list of strings, ${got}`);
      expect(error).toMatchObject({ code: 'validation_failed', details: { field: 'stopSequences', index } });
    }
    // A value that is no list at all is still shown whole.
    const notList = await session()
      .module('m', { ...base, stopSequences: 'END' } as never)
      .catch((e: unknown) => e);
    expect((notList as ValidationError).message).toContain('needs a list of strings, got "END"');
    const listForString = await session()
      .module('m', { ...base, instructions: ['Be brief'] } as never)
      .catch((e: unknown) => e);
    expect((listForString as ValidationError).message).toContain(
      "attribute 'instructions' needs a string, got an array",
    );
    expect((listForString as ValidationError).details).not.toHaveProperty('index');
    expect(await session().modules()).toEqual([]);
    expect(stub().chatRequests).toEqual([]);
  });

  it("names a spec's own setting in details.field, not as a variable, and what ReAct and BestOfN lack", async () => {
    const cases: [object, string][] = [
      [{ ...base, temperature: 5 }, 'temperature'],
      [{ ...base, type: 'MultiChainComparison', samples: 1e9 }, 'samples'],
      [{ ...base, thinkingTokenBudget: 'huge' }, 'thinkingTokenBudget'],
      [{ ...base, stopSequences: 'END' }, 'stopSequences'],
      [{ ...base, type: 'ReAct' }, 'tools'],
      [{ ...base, type: 'BestOfN' }, 'reward'],
    ];
    for (const [spec, field] of cases) {
      const error = await session()
        .module('m', spec as never)
        .catch((e: unknown) => e);
      expect(error, JSON.stringify(spec)).toBeInstanceOf(ValidationError);
      expect(error, JSON.stringify(spec)).toMatchObject({ code: 'validation_failed', details: { field } });
      expect((error as ValidationError).variable, JSON.stringify(spec)).toBeUndefined();
      expect((error as ValidationError).details, JSON.stringify(spec)).not.toHaveProperty('variable');
    }
    expect(await session().modules()).toEqual([]);
  });

  it('names the part of a spec that is wrong in details.field for its whole shape: bindings, tools, keys', async () => {
    const cases: [unknown, Record<string, unknown>][] = [
      ['Predict', { field: 'spec', got: '"Predict"' }],
      [
        { ...base, bogus: 1 },
        { field: 'spec', unknown: ['bogus'], accepted: expect.arrayContaining(['bindings']) },
      ],
      [
        { ...base, bindings: null },
        { field: 'bindings', got: 'null' },
      ],
      [{ ...base, bindings: ['t'] }, { field: 'bindings' }],
      [
        { ...base, bindings: { temprature: 't' } },
        { field: 'bindings.temprature', attribute: 'temprature' },
      ],
      [
        { ...base, bindings: { temperature: '9t' } },
        { field: 'bindings.temperature', attribute: 'temperature' },
      ],
      [
        { ...base, bindings: { temperature: { variable: 't', foo: 1 } } },
        { field: 'bindings.temperature', unknown: ['foo'], accepted: ['variable', 'onChange'] },
      ],
      [
        { ...base, bindings: { temperature: { variable: 't', onChange: 5 } } },
        { field: 'bindings.temperature.onChange' },
      ],
      [{ ...base, tools: 'search' }, { field: 'tools' }],
      [
        { ...base, tools: ['search', 5] },
        { field: 'tools[1]', got: '5' },
      ],
      [{ signature: base.signature, typeVariable: 'no such name' }, { field: 'typeVariable' }],
      // The model could call only one of two tools of one name.
      [
        { ...base, tools: ['search', 'search'] },
        { field: 'tools[1]', tool: 'search' },
      ],
      // No model is called ''.
      [
        { ...base, model: '' },
        { field: 'model', expected: 'a model name' },
      ],
    ];
    for (const [spec, details] of cases) {
      const error = await session()
        .module('m', spec as never)
        .catch((e: unknown) => e);
      expect(error, JSON.stringify(spec)).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).details, JSON.stringify(spec)).toMatchObject(details);
    }
    const typeVariable = await session()
      .module('m', { signature: base.signature, typeVariable: 'no such name' })
      .catch((e: unknown) => e);
    expect((typeVariable as Error).message).toMatch(/^module spec typeVariable: invalid variable name 'no such name'/);
    // The JSON form the NATS create endpoint reads names them alike, a binding that is no name included.
    expect(() => parseWireSpec({ ...base, bindings: { temperature: { variable: 't' } } })).toThrow(
      expect.objectContaining({ details: { field: 'bindings.temperature', attribute: 'temperature' } }),
    );
    expect(() => parseWireSpec({ ...base, bindings: null })).toThrow(
      expect.objectContaining({ details: expect.objectContaining({ field: 'bindings' }) }),
    );
    expect(await session().modules()).toEqual([]);
  });
});
