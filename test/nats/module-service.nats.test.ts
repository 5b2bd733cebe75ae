import type { Msg } from 'nats';
import { describe, expect, it } from 'vitest';
import { AlreadyExistsError, ModuleNotFoundError, SessionError, ValidationError } from '../../src/index.js';
import { MAX_TIMEOUT_MS } from '../../src/runtime/process-runtime-options.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { isNotice, rawReply, rawRequest } from '../support/raw-request.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);
const enc = new TextEncoder();

/** A raw request, as any NATS client would send it; the reply's body and error headers. */
const raw = (subject: string, payload: string, header?: [string, string]) => rawReply(nc(), subject, payload, header);

const spec = { type: 'Predict', signature: 'question:string -> answer:string', bindings: { temperature: 't' } };

describe('module service', () => {
  it('lists the module endpoints in $SRV.INFO, in the tether queue group', async () => {
    const node = await fx().runtime(fx().buckets());
    expect(node).toBeDefined();
    const info = (await nc().request('$SRV.INFO.tether')).json<{
      endpoints: { name: string; subject: string; queue_group: string }[];
    }>();
    const modules = info.endpoints.filter((e) => e.name.startsWith('module-'));
    expect(modules.map((e) => [e.name, e.subject])).toEqual([
      ['module-create', 'tether.v1.session.*.module.*.create'],
      ['module-execute', 'tether.v1.session.*.module.*.execute'],
      ['module-describe', 'tether.v1.session.*.module.*.describe'],
      ['module-cancel', 'tether.v1.session.*.module.*.cancel'],
      ['module-stop', 'tether.v1.session.*.module.*.stop'],
      ['module-list', 'tether.v1.session.*.module.list'],
    ]);
    expect(new Set(modules.map((e) => e.queue_group))).toEqual(new Set(['tether']));
  });

  it('serves a raw JSON client: create, execute on the offline model, describe, list, stop', async () => {
    await fx().runtime(fx().buckets());
    await raw('tether.v1.session.raw.open', '');
    await raw('tether.v1.session.raw.var.define', '{"name":"t","type":"float","value":0.25}');
    const created = await raw('tether.v1.session.raw.module.qa.create', JSON.stringify({ spec }));
    expect(created.body.result).toMatchObject({
      moduleId: 'qa',
      sessionId: 'raw',
      moduleType: 'Predict',
      state: 'idle',
    });
    const executed = await raw(
      'tether.v1.session.raw.module.qa.execute',
      '{"inputs":{"question":"hi"},"executionId":"e-1"}',
    );
    expect(executed.body.result).toMatchObject({
      executionId: 'e-1',
      moduleId: 'qa',
      moduleType: 'Predict',
      provenance: { t: 1 },
    });
    expect(executed.body.result.output.answer).toContain('temperature=0.25');
    expect((await raw('tether.v1.session.raw.module.qa.describe', '')).body.result).toMatchObject({
      completed: 1,
      failed: 0,
    });
    expect((await raw('tether.v1.session.raw.module.list', '')).body.result).toEqual([{ moduleId: 'qa', spec }]);
    expect((await raw('tether.v1.session.raw.module.qa.cancel', '{"executionId":"e-1"}')).body.result).toEqual({
      cancelled: false,
    });
    expect((await raw('tether.v1.session.raw.module.qa.stop', '')).body.result).toEqual({ stopped: true });
    const gone = await raw('tether.v1.session.raw.module.qa.execute', '{"inputs":{"question":"hi"}}');
    expect(gone.errorCode).toBe('404');
    expect(gone.body.error).toMatchObject({ code: 'module_not_found', details: { sessionId: 'raw', moduleId: 'qa' } });
    expect((await raw('tether.v1.session.raw.module.list', '')).body.result).toEqual([]);
  });

  it('sends no acceptance notice to a module request other than execute: it gets its reply alone', async () => {
    await fx().runtime(fx().buckets());
    await raw('tether.v1.session.quiet.open', '');
    await raw('tether.v1.session.quiet.var.define', '{"name":"t","type":"float","value":0.25}');
    const asked = async (operation: string, body: object) => {
      const received = rawRequest(nc(), `tether.v1.session.quiet.${operation}`, body, true);
      await waitFor(() => received.some((msg) => !isNotice(msg)), { message: `the reply to ${operation}` });
      // A notice leaves before its reply or not at all: once the reply is here, any notice would be too. A late one
      // (it says how long the node may yet take) is every slow request's, not an announced acceptance.
      const announced = (msg: Msg) => isNotice(msg) && !msg.headers?.has('Tether-Answer-Within');
      return received.map(announced);
    };
    expect(await asked('module.qa.create', { spec })).toEqual([false]);
    expect(await asked('module.qa.describe', {})).toEqual([false]);
    expect(await asked('module.list', {})).toEqual([false]);
    expect(await asked('module.qa.cancel', { executionId: 'e-1' })).toEqual([false]);
    expect(await asked('module.qa.stop', {})).toEqual([false]);
  });

  it('refuses a taken id from any node, and frees it once the module is stopped', async () => {
    const buckets = fx().buckets();
    await fx().runtime(buckets);
    await fx().runtime(buckets);
    const client = await fx().client();
    const session = await client.session('taken');
    await session.defineVariable('t', 'float', 0.5);
    const qa = await session.module('qa', spec);
    // Twenty attempts: with two nodes in the queue group, both get to refuse it.
    const refusals = await Promise.all(
      Array.from({ length: 20 }, () =>
        session.module('qa', { ...spec, type: 'ChainOfThought' }).catch((e: unknown) => e),
      ),
    );
    for (const refusal of refusals) expect(refusal).toBeInstanceOf(AlreadyExistsError);
    expect((await qa.describe()).moduleType).toBe('Predict');
    await qa.stop();
    await qa.stop();
    const again = await session.module('qa', { ...spec, type: 'ChainOfThought' });
    expect((await again.describe()).moduleType).toBe('ChainOfThought');
    expect((await again.execute({ question: 'x' })).moduleType).toBe('ChainOfThought');
  });

  it('answers session_not_found and module_not_found, typed on the client', async () => {
    await fx().runtime(fx().buckets());
    const client = await fx().client();
    const ghost = await client.session('ghost', { create: false });
    // A spec a new session would take (no variable bound): one that would be refused gets its own error instead.
    const { bindings: _bindings, ...unbound } = spec;
    await expect(ghost.module('qa', unbound)).rejects.toBeInstanceOf(SessionError);
    await expect(ghost.modules()).rejects.toMatchObject({ code: 'session_not_found' });
    const raw404 = await raw('tether.v1.session.ghost.module.qa.execute', '{"inputs":{}}');
    expect(raw404.body.error).toMatchObject({ code: 'session_not_found' });
    const session = await client.session('real');
    const missing = await session.module('nope').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ModuleNotFoundError);
    expect(missing).toMatchObject({ sessionId: 'real', moduleId: 'nope' });
    expect(await session.modules()).toEqual([]);
    await expect(session.module('bad id')).rejects.toBeInstanceOf(ValidationError);
  });

  it('refuses bad module input with validation_failed, creates nothing and keeps serving', async () => {
    const buckets = fx().buckets();
    await fx().runtime(buckets);
    await fx().runtime(buckets);
    const client = await fx().client();
    const session = await client.session('fuzz');
    await session.defineVariable('t', 'float', 0.5);
    const qa = await session.module('qa', spec);
    const base = 'tether.v1.session.fuzz.module';
    const good = JSON.stringify;
    const cases: [string, string, [string, string]?][] = [
      [`${base}.new.create`, '{"spec":'],
      [`${base}.new.create`, 'not json'],
      [`${base}.new.create`, '[]'],
      [`${base}.new.create`, '{}'],
      [`${base}.new.create`, '{"spec":"Predict"}'],
      [`${base}.new.create`, '{"spec":[]}'],
      [`${base}.new.create`, good({ spec, extra: 1 })],
      [`${base}.new.create`, good({ spec: { signature: 'question -> answer' } })],
      [`${base}.new.create`, good({ spec: { ...spec, signature: '' } })],
      [`${base}.new.create`, good({ spec: { ...spec, typeVariable: 't' } })],
      [`${base}.new.create`, good({ spec: { ...spec, type: 5 } })],
      [`${base}.new.create`, good({ spec: { ...spec, temprature: 1 } })],
      [`${base}.new.create`, good({ spec: { ...spec, reward: 'x => 1' } })],
      [`${base}.new.create`, good({ spec: { ...spec, pick: 0 } })],
      [`${base}.new.create`, good({ spec: { ...spec, tools: 'search' } })],
      [`${base}.new.create`, good({ spec: { ...spec, tools: [{ name: 'search' }] } })],
      [`${base}.new.create`, good({ spec: { ...spec, tools: ['no_such_tool'] } })],
      [`${base}.new.create`, good({ spec: { ...spec, bindings: { temperature: { variable: 't' } } } })],
      [`${base}.new.create`, good({ spec: { ...spec, bindings: { temperature: 't.x' } } })],
      [`${base}.new.create`, good({ spec: { ...spec, bindings: [] } })],
      [`${base}.new.create`, good({ spec: { ...spec, temperature: 'hot' } })],
      [`${base}.new.create`, good({ spec: { ...spec, type: 'MultiChainComparison', samples: 1e9 } })],
      [`${base}.new.create`, good({ spec: { ...spec, type: 'MultiChainComparison', samples: -3 } })],
      [`${base}.new.create`, good({ spec: { ...spec, maxSteps: 1e6 } })],
      [`${base}.new.create`, good({ spec: { ...spec, temperature: 9 } })],
      [`${base}.new.create`, good({ spec: { type: 'ReAct', signature: 'question:string -> answer:string' } })],
      ['tether.v1.session.fuzz.module.a*.create', good({ spec })],
      ['tether.v1.session.fuzz.module.>.create', good({ spec })],
      ['tether.v1.session.*.module.new.create', good({ spec })],
      [`${base}.qa.execute`, '{"inputs":"hi"}'],
      [`${base}.qa.execute`, '{"inputs":[1]}'],
      [`${base}.qa.execute`, '{}'],
      [`${base}.qa.execute`, '{"inputs":{},"timeoutMs":-5}'],
      [`${base}.qa.execute`, '{"inputs":{},"timeoutMs":0}'],
      [`${base}.qa.execute`, '{"inputs":{},"timeoutMs":"soon"}'],
      [`${base}.qa.execute`, '{"inputs":{},"timeoutMs":2147483648}'],
      [`${base}.qa.execute`, '{"inputs":{},"timeoutMs":1.5}'],
      [`${base}.qa.execute`, '{"inputs":{},"executionId":7}'],
      [`${base}.qa.execute`, '{"inputs":{},"executionId":"a.b"}'],
      [`${base}.qa.execute`, '{"inputs":{},"executionId":""}'],
      [`${base}.qa.execute`, '{"inputs":{},"bogus":true}'],
      [`${base}.qa.execute`, '{"inputs":{}}'],
      [`${base}.qa.execute`, '{"inputs":{"question":5}}'],
      [`${base}.qa.execute`, '{"inputs":{"question":"x","extra":1}}'],
      [`${base}.qa.execute`, '{"inputs":{}}', ['Tether-Min-Revision', 'later']],
      [`${base}.qa.describe`, '{"verbose":true}'],
      [`${base}.qa.cancel`, '{}'],
      [`${base}.qa.cancel`, '{"executionId":5}'],
      [`${base}.qa.cancel`, '{"executionId":"x y"}'],
      [`${base}.qa.stop`, '{"force":true}'],
      [`${base}.list`, '{"pattern":"*"}'],
    ];
    for (const [subject, payload, header] of cases) {
      const reply = await raw(subject, payload, header);
      const label = `${subject} ${payload.slice(0, 80)}`;
      expect(reply.errorCode, label).toBe('400');
      expect(reply.error, label).toMatch(/^validation_failed: /);
      expect(reply.body.error?.code, label).toBe('validation_failed');
    }
    // One rule for a timeout, said whole whatever was wrong with it (a string is shown as the JSON it was).
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    for (const [timeoutMs, shown] of [
      ['0', '0'],
      ['1.5', '1.5'],
      ['"5"', '"5"'],
      [deep, 'an array'],
      [`"${'x'.repeat(100_000)}"`, `"${'x'.repeat(78)}…`],
    ] as [string, string][]) {
      const reply = await raw(`${base}.qa.execute`, `{"inputs":{},"timeoutMs":${timeoutMs}}`);
      expect(reply.body.error, timeoutMs.slice(0, 20)).toMatchObject({
        message: `timeoutMs must be a whole number of milliseconds from 1 to 2147483647, got ${shown}`,
        details: { field: 'timeoutMs' },
      });
    }
    expect((await session.modules()).map((m) => m.moduleId)).toEqual(['qa']);
    expect(await qa.describe()).toMatchObject({ completed: 0, failed: 0 });
    expect((await qa.execute({ question: 'still here' })).output.answer).toContain('still here');
    const refused = await session.module('x', { ...spec, reward: () => 1 }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ValidationError);
    expect((refused as Error).message).toMatch(/reward.*embedded/);
  });

  it('refuses a spec of a billion samples with a validation error, stores nothing and keeps serving', async () => {
    const buckets = fx().buckets();
    await fx().runtime(buckets);
    await raw('tether.v1.session.huge.open', '');
    const huge = { type: 'MultiChainComparison', signature: 'question:string -> answer:string', samples: 1e9 };
    const refused = await raw('tether.v1.session.huge.module.mcc.create', JSON.stringify({ spec: huge }));
    expect(refused.errorCode).toBe('400');
    expect(refused.body.error).toEqual({
      code: 'validation_failed',
      message: "module setting 'samples' must be an integer from 1 to 32, got 1000000000",
      details: { field: 'samples', value: 1e9, min: 1, max: 32, integer: true },
    });
    // Nothing in the modules bucket, so no node can ever wake it.
    const kv = await nc().jetstream().views.kv(buckets.modulesBucket);
    expect(await kv.get('huge.mcc')).toBeNull();
    expect((await raw('tether.v1.session.huge.module.list', '')).body.result).toEqual([]);
    const gone = await raw('tether.v1.session.huge.module.mcc.execute', '{"inputs":{"question":"q"}}');
    expect(gone.body.error).toMatchObject({ code: 'module_not_found' });
    // The node still serves, a bounded MultiChainComparison included.
    const bounded = await raw(
      'tether.v1.session.huge.module.mcc.create',
      JSON.stringify({ spec: { ...huge, samples: 32 } }),
    );
    expect(bounded.body.result).toMatchObject({ moduleId: 'mcc', moduleType: 'MultiChainComparison' });
    const executed = await raw('tether.v1.session.huge.module.mcc.execute', '{"inputs":{"question":"q"}}');
    expect(executed.body.result.output.answer).toContain('Question: q');
  });

  it('refuses to wake a module whose stored spec is out of range, and keeps serving the others', async () => {
    const buckets = fx().buckets();
    await fx().runtime(buckets);
    await raw('tether.v1.session.old.open', '');
    await raw(
      'tether.v1.session.old.module.qa.create',
      JSON.stringify({ spec: { type: 'Predict', signature: spec.signature } }),
    );
    // As a node without these checks (or anything else with access to the bucket) could have written it.
    const kv = await nc().jetstream().views.kv(buckets.modulesBucket);
    const stored = { type: 'MultiChainComparison', signature: spec.signature, samples: 1e9 };
    await kv.put('old.mcc', enc.encode(JSON.stringify(stored)));
    const refused = await raw('tether.v1.session.old.module.mcc.execute', '{"inputs":{"question":"q"}}');
    expect(refused.body.error).toMatchObject({ code: 'validation_failed', details: { field: 'samples' } });
    const served = await raw('tether.v1.session.old.module.qa.execute', '{"inputs":{"question":"still"}}');
    expect(served.body.result.output.answer).toContain('still');
  });

  it('answers execute inputs its signature refuses with validation_failed naming the field, and no failure', async () => {
    await fx().runtime(fx().buckets());
    await raw('tether.v1.session.inputs.open', '');
    await raw(
      'tether.v1.session.inputs.module.qa.create',
      JSON.stringify({ spec: { type: 'Predict', signature: spec.signature } }),
    );
    const subject = 'tether.v1.session.inputs.module.qa.execute';
    const missing = await raw(subject, '{"inputs":{}}');
    expect(missing.errorCode).toBe('400');
    expect(missing.body.error).toEqual({
      code: 'validation_failed',
      message: "input field 'question' (a string) is required and was not given",
      details: { field: 'question', expected: 'a string' },
    });
    const wrong = await raw(subject, '{"inputs":{"question":5}}');
    expect(wrong.body.error).toMatchObject({
      code: 'validation_failed',
      message: "input field 'question' must be a string, got a number (5)",
      details: { field: 'question' },
    });
    const unknown = await raw(subject, '{"inputs":{"question":"q","questoin":"typo"}}');
    expect(unknown.body.error).toMatchObject({ code: 'validation_failed', details: { field: 'questoin' } });
    // The client rebuilds the typed error.
    const client = await fx().client();
    const qa = await (await client.session('inputs')).module('qa');
    await expect(qa.execute({ question: [] })).rejects.toBeInstanceOf(ValidationError);
    expect((await raw('tether.v1.session.inputs.module.qa.describe', '')).body.result).toMatchObject({
      completed: 0,
      failed: 0,
    });
    expect((await raw(subject, '{"inputs":{"question":"good"}}')).body.result.output.answer).toContain('good');
  });

  it('refuses a value nested deeper than any value may be, in a spec or the inputs, naming it', async () => {
    await fx().runtime(fx().buckets());
    await raw('tether.v1.session.deep.open', '');
    const json = { type: 'Predict', signature: 'question:json -> answer:string' };
    await raw('tether.v1.session.deep.module.qa.create', JSON.stringify({ spec: json }));
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const base = 'tether.v1.session.deep.module';
    const cases: [string, string, string][] = [
      [
        `${base}.b.create`,
        `{"spec":{"type":"Predict","signature":"${json.signature}","bindings":{"temperature":${deep}}}}`,
        "binding of 'temperature' must be a variable name over the wire, got an array",
      ],
      [
        `${base}.s.create`,
        `{"spec":{"type":"Predict","signature":"${json.signature}","stopSequences":${deep}}}`,
        "attribute 'stopSequences' needs a list of strings, got an array at index 0",
      ],
      [
        `${base}.i.create`,
        `{"spec":{"type":"Predict","signature":"${json.signature}","instructions":${deep}}}`,
        "attribute 'instructions' needs a string, got an array",
      ],
      [
        `${base}.qa.execute`,
        `{"inputs":{"question":${deep}}}`,
        "input field 'question' is nested deeper than 256 levels",
      ],
    ];
    for (const [subject, payload, message] of cases) {
      const reply = await raw(subject, payload);
      expect(reply.errorCode, message).toBe('400');
      expect(reply.body.error, message).toMatchObject({ code: 'validation_failed', message });
    }
    expect((await raw(`${base}.list`, '')).body.result).toEqual([{ moduleId: 'qa', spec: json }]);
    expect((await raw(`${base}.qa.describe`, '')).body.result).toMatchObject({ completed: 0, failed: 0 });
    // As deep as a value may be, an input is run.
    const nested = `${'['.repeat(255)}"q"${']'.repeat(255)}`;
    expect((await raw(`${base}.qa.execute`, `{"inputs":{"question":${nested}}}`)).body.result).toMatchObject({
      moduleId: 'qa',
    });
  });

  it('says in the execute reply which sync was refused, while the execution runs with the last good values', async () => {
    await fx().runtime(fx().buckets());
    await raw('tether.v1.session.stale.open', '');
    await raw('tether.v1.session.stale.var.define', '{"name":"knob","type":"json","value":0.5}');
    await raw('tether.v1.session.stale.var.define', '{"name":"kind","type":"module","value":"Predict"}');
    const stale = { typeVariable: 'kind', signature: spec.signature, bindings: { temperature: 'knob' } };
    await raw('tether.v1.session.stale.module.qa.create', JSON.stringify({ spec: stale }));
    const subject = 'tether.v1.session.stale.module.qa.execute';
    const fine = await raw(subject, '{"inputs":{"question":"q"}}');
    expect(fine.body.result).not.toHaveProperty('syncFailed');

    await raw('tether.v1.session.stale.var.set', '{"name":"knob","value":"hot"}');
    const hot = await raw(subject, '{"inputs":{"question":"q"}}');
    expect(hot.errorCode).toBe('');
    expect(hot.body.result.syncFailed).toMatchObject({
      code: 'validation_failed',
      message: expect.stringContaining('temperature'),
    });
    expect(hot.body.result.output.answer).toContain('temperature=0.5');
    expect(hot.body.result.provenance).toEqual(fine.body.result.provenance);

    await raw('tether.v1.session.stale.var.set', '{"name":"knob","value":0.5}');
    await raw('tether.v1.session.stale.var.set', '{"name":"kind","value":"Nope"}');
    const client = await fx().client();
    const qa = await (await client.session('stale')).module('qa');
    const nope = await qa.execute({ question: 'q' });
    expect(nope.syncFailed).toMatchObject({ code: 'unknown_module' });
    expect(nope.moduleType).toBe('Predict');
  });

  it('waits up to 2^31-1 ms for an execution and refuses a longer timeout with validation_failed', async () => {
    await fx().runtime(fx().buckets());
    const session = await (await fx().client()).session('long');
    await session.defineVariable('t', 'float', 0.5);
    const qa = await session.module('qa', spec);
    // Unfixed, the client's reply timer overflowed past 2^31-1 ms and fired at once.
    expect((await qa.execute({ question: 'patient' }, { timeoutMs: MAX_TIMEOUT_MS })).output.answer).toContain(
      'patient',
    );
    const refused = await qa.execute({ question: 'too long' }, { timeoutMs: MAX_TIMEOUT_MS + 1 }).catch((e) => e);
    expect(refused).toBeInstanceOf(ValidationError);
    expect((refused as ValidationError).code).toBe('validation_failed');
    expect(await qa.describe()).toMatchObject({ completed: 1, failed: 0 });
  });
});
