import { describe, expect, it, onTestFinished } from 'vitest';
import { ValidationError, createEchoModel } from '../../src/index.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);
const SPEC = {
  type: 'Predict',
  signature: 'question:string, count?:number, payload?:json -> answer:string',
  bindings: { temperature: 't' },
};

/** An embedded session (the node's own API) and a remote one of session `sessionId`, each with a handle of `qa`. */
async function bothKinds(sessionId: string) {
  const node = await fx().runtime(fx().buckets(), { llm: createEchoModel() });
  const client = await fx().client();
  const remote = await client.session(sessionId);
  await remote.defineVariable('t', 'float', 0.5);
  await remote.defineVariable('f', 'integer', 1);
  await remote.setVariable('f', 2);
  const embedded = await node.session(sessionId);
  const modules = { remote: await remote.module('qa', SPEC), embedded: await embedded.module('qa') };
  return { client, embedded, remote, modules };
}

/** Every request sent for session `sessionId` from now on, by subject, as a plain subscriber sees them. */
async function sentRequests(sessionId: string): Promise<string[]> {
  const sent: string[] = [];
  const subscription = nc().subscribe(`tether.v1.session.${sessionId}.>`, {
    callback: (_error, msg) => sent.push(msg.subject),
  });
  await nc().flush();
  onTestFinished(() => subscription.unsubscribe());
  return sent;
}

/** What `call` rejects with on the embedded and on the remote side, which must be one error. */
async function refusedAlike(embedded: () => Promise<unknown>, remote: () => Promise<unknown>): Promise<unknown> {
  const [fromEmbedded, fromRemote] = await Promise.all(
    [embedded, remote].map((call) =>
      call().then(
        () => undefined,
        (error: unknown) => error,
      ),
    ),
  );
  expect(fromEmbedded).toBeInstanceOf(ValidationError);
  expect(fromRemote).toBeInstanceOf(ValidationError);
  expect((fromRemote as Error).constructor).toBe((fromEmbedded as Error).constructor);
  expect(fromRemote).toMatchObject({
    code: (fromEmbedded as ValidationError).code,
    message: (fromEmbedded as ValidationError).message,
  });
  expect(JSON.stringify(fromRemote)).toBe(JSON.stringify(fromEmbedded));
  return fromEmbedded;
}

const cyclic: Record<string, unknown> = { a: 1 };
cyclic.self = cyclic;

describe('execute refuses bad input alike embedded and remotely, sending nothing', () => {
  it('a signal that is no AbortSignal: validation_failed naming it, and the client closes cleanly after', async () => {
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown): void => void uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    process.on('unhandledRejection', onUncaught);
    onTestFinished(() => {
      process.off('uncaughtException', onUncaught);
      process.off('unhandledRejection', onUncaught);
    });
    const { client, modules } = await bothKinds('inp1');
    const sent = await sentRequests('inp1');
    const signal = new AbortController() as unknown as AbortSignal;
    const error = await refusedAlike(
      () => modules.embedded.execute({ question: 'x' }, { signal }),
      () => modules.remote.execute({ question: 'x' }, { signal }),
    );
    expect(error).toMatchObject({ code: 'validation_failed', details: { field: 'signal' } });
    expect((error as Error).message).toMatch(/signal/);
    await nc().flush();
    expect(sent).toEqual([]);
    // Nothing was left registered: closing does not throw, and nothing is thrown later either.
    await expect(client.close()).resolves.toBeUndefined();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(uncaught).toEqual([]);
  });

  it('inputs the signature refuses, with a signal aborted already: the inputs are refused first', async () => {
    const { modules } = await bothKinds('inp7');
    const signal = AbortSignal.abort('changed my mind');
    const error = await refusedAlike(
      () => modules.embedded.execute({}, { signal }),
      () => modules.remote.execute({}, { signal }),
    );
    expect(error).toMatchObject({ code: 'validation_failed', message: expect.stringContaining("'question'") });
    // Inputs it takes: the abort.
    await expect(modules.remote.execute({ question: 'x' }, { signal })).rejects.toMatchObject({
      code: 'execution_aborted',
    });
  });

  it('an option execute does not take, or options that are no object: validation_failed naming it', async () => {
    const { modules } = await bothKinds('inp6');
    const sent = await sentRequests('inp6');
    // `timeout` for `timeoutMs` was read as absent: the execution waited the default two minutes.
    const misspelled = await refusedAlike(
      () => modules.embedded.execute({ question: 'x' }, { timeout: 100 } as never),
      () => modules.remote.execute({ question: 'x' }, { timeout: 100 } as never),
    );
    expect(misspelled).toMatchObject({
      message: "execute() of module 'qa' got unknown option timeout; accepted: timeoutMs, signal",
      details: { unknown: ['timeout'], accepted: ['timeoutMs', 'signal'] },
    });
    const notObject = await refusedAlike(
      () => modules.embedded.execute({ question: 'x' }, null as never),
      () => modules.remote.execute({ question: 'x' }, null as never),
    );
    expect(notObject).toMatchObject({ message: "execute() of module 'qa' options must be an object, got null" });
    await nc().flush();
    expect(sent).toEqual([]);
  });

  it('a Date in a string field, a bigint, a cyclic object, NaN and Infinity: the embedded check, before sending', async () => {
    const { modules } = await bothKinds('inp2');
    const sent = await sentRequests('inp2');
    const refused: [Record<string, unknown>, string][] = [
      [{ question: new Date(0) }, "input field 'question' must be a string, got a Date"],
      [{ question: 1n }, "input field 'question' must be a string, got a bigint (1)"],
      [{ question: cyclic }, "input field 'question' must be a string, got an object"],
      [{ question: 'x', payload: cyclic }, "input field 'payload' is nested deeper than 256 levels"],
      [
        { question: 'x', payload: { n: 1n } },
        "input field 'payload' holds a bigint at payload.n, which JSON cannot carry",
      ],
      [
        { question: 'x', payload: new Set([1]) },
        "input field 'payload' holds a Set at payload, which JSON cannot carry",
      ],
      [{ question: 'x', count: Number.NaN }, "input field 'count' must be a finite number, got a number (NaN)"],
      [{ question: 'x', count: Infinity }, "input field 'count' must be a finite number, got a number (Infinity)"],
    ];
    for (const [inputs, message] of refused) {
      const error = await refusedAlike(
        () => modules.embedded.execute(inputs),
        () => modules.remote.execute(inputs),
      );
      expect(error).toMatchObject({ code: 'validation_failed', message });
    }
    await nc().flush();
    expect(sent).toEqual([]);
    // Inputs the check takes still run remotely.
    await expect(modules.remote.execute({ question: 'x', count: 2 })).resolves.toMatchObject({ moduleId: 'qa' });
  });

  it('a handle got without its spec judges as the embedded module, from the description, sending no execution', async () => {
    const { modules, remote } = await bothKinds('inp4');
    const described = await remote.module('qa');
    const sent = await sentRequests('inp4');
    const [listed] = await remote.modules();
    for (const handle of [described, listed!]) {
      const error = await refusedAlike(
        () => modules.embedded.execute({ question: new Date(0) }),
        () => handle.execute({ question: new Date(0) }),
      );
      expect(error).toMatchObject({ message: "input field 'question' must be a string, got a Date" });
    }
    // A member whose own toJSON throws (what JSON cannot encode) is refused as embedded, naming the field and the
    // path, by every kind of handle.
    const unencodable = {
      toJSON() {
        throw new Error('no JSON for this');
      },
    };
    for (const handle of [modules.remote, described, listed!]) {
      const error = await refusedAlike(
        () => modules.embedded.execute({ question: 'x', payload: { unencodable } }),
        () => handle.execute({ question: 'x', payload: { unencodable } }),
      );
      expect(error).toMatchObject({
        message: "input field 'payload' at payload.unencodable.toJSON() could not be read: no JSON for this",
        details: { field: 'payload', path: 'payload.unencodable.toJSON()' },
      });
    }
    await nc().flush();
    // The listing, and the one description the listed handle asked for at its first such input: no execution.
    expect(sent).toEqual(['tether.v1.session.inp4.module.list', 'tether.v1.session.inp4.module.qa.describe']);
  });

  // Found while testing copies of inputs: JSON sent a Date as `1970-01-01T00:00:00.000Z`, which the node's program
  // wrote into the prompt as it was, where the embedded one wrote the date `1970-01-01`.
  it('a Date in a date, datetime or range field reaches the prompt as it does embedded', async () => {
    const { client, embedded } = await bothKinds('dates');
    const spec = {
      type: 'Predict',
      signature: 'question:string, day:date, at:datetime, span:dateRange, window:datetimeRange -> answer:string',
    };
    const remote = await (await client.session('dates')).module('dated', spec);
    const local = await embedded.module('dated');
    const inputs = {
      question: 'q',
      day: new Date(Date.UTC(2024, 1, 3, 22)),
      at: new Date(Date.UTC(2024, 1, 3, 10, 5, 7, 250)),
      span: { start: new Date(0), end: new Date(86_400_000) },
      window: { start: new Date(0), end: new Date(1000) },
    };
    const prompt = String((await local.execute(inputs)).output.answer);
    expect(prompt).toMatch(/Day: 2024-02-03 At: 2024-02-03T10:05:07Z Span: \{ "start": "1970-01-01"/);
    expect(String((await remote.execute(inputs)).output.answer)).toBe(prompt);
  });

  it('a handle whose description could not be had asks for it again at the next input that needs it', async () => {
    const { remote, modules } = await bothKinds('inp6');
    const [listed] = await remote.modules();
    await modules.remote.stop();
    // No module to describe: nothing to judge the Date by, and the node says the module is not found.
    await expect(listed!.execute({ question: new Date(0) })).rejects.toMatchObject({ code: 'module_not_found' });
    // Nor inputs JSON cannot encode (a member's toJSON throws): those are refused naming the inputs, sending nothing.
    const sent = await sentRequests('inp6');
    const unencodable = {
      toJSON() {
        throw new Error('no JSON for this');
      },
    };
    const error = await listed!.execute({ question: 'x', payload: { unencodable } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({
      code: 'validation_failed',
      message: "execute() of module 'qa': its inputs cannot be sent as JSON (no JSON for this)",
      details: { field: 'inputs', moduleId: 'qa' },
    });
    await nc().flush();
    expect(sent).toEqual(['tether.v1.session.inp6.module.qa.describe']);
    await remote.module('qa', SPEC);

    // Asked again, the description judges the Date in the string field as embedded: refused, not run on its text.
    await expect(listed!.execute({ question: new Date(0) })).rejects.toMatchObject({
      code: 'validation_failed',
      message: "input field 'question' must be a string, got a Date",
    });
  });

  it("the spec's check never refuses JSON inputs: a module created again with another signature judges them", async () => {
    const { client, remote } = await bothKinds('inp5');
    const handle = await remote.module('q2', { type: 'Predict', signature: 'question:string -> answer:string' });
    const other = await (await client.session('inp5')).module('q2');
    await other.stop();
    await remote.module('q2', { type: 'Predict', signature: 'question:number -> answer:string' });
    // The first handle's spec said string; the module now takes a number, and the node is the judge.
    await expect(handle.execute({ question: 5 })).resolves.toMatchObject({ moduleId: 'q2' });
    await expect(handle.execute({ question: 'five' })).rejects.toMatchObject({
      code: 'validation_failed',
      message: expect.stringMatching(/question/),
    });
  });
});

describe('variable calls refuse bad arguments alike embedded and remotely, sending nothing', () => {
  it('lock, unlock, rollback and define', async () => {
    const { embedded, remote } = await bothKinds('inp3');
    const sent = await sentRequests('inp3');
    type Call = (session: typeof remote) => Promise<unknown>;
    const calls: [Call, string][] = [
      [(s) => s.lockVariable('f', 1n as never), "lock owner for 'f' must be a string, got bigint"],
      [(s) => s.unlockVariable('f', cyclic as never), "lock owner for 'f' must be a string, got object"],
      [(s) => s.rollbackVariable('f', 1n as never), "version of variable 'f' must be a whole number from 1, got 1n"],
      [
        (s) => s.rollbackVariable('f', cyclic as never),
        "version of variable 'f' must be a whole number from 1, got an object",
      ],
      [(s) => s.rollbackVariable('f', 1.5), "version of variable 'f' must be a whole number from 1, got 1.5"],
      [(s) => s.rollbackVariable('f', -1), "version of variable 'f' must be a whole number from 1, got -1"],
      [(s) => s.rollbackVariable('f', '1' as never), `version of variable 'f' must be a whole number from 1, got "1"`],
      [(s) => s.rollbackVariable('f', Number.NaN), "version of variable 'f' must be a whole number from 1, got NaN"],
      [(s) => s.rollbackVariable('f', 2 ** 60), /^version of variable 'f' must be a whole number from 1, got 1152/],
      // Found by the differential fuzzer: the client judged the version first, and so named a bad name as a variable.
      [(s) => s.rollbackVariable('f.g', 1.5), /^invalid variable name 'f.g': /],
      [(s) => s.rollbackVariable(7 as never, -1), 'variable name must be a string, got number'],
      [(s) => s.defineVariable('g', 1n as never, 1), /^g: unknown variable type bigint; accepted: /],
      [(s) => s.defineVariable('g', cyclic as never, 1), /^g: unknown variable type object; accepted: /],
      [(s) => s.defineVariable('g', 'integer', 1, null as never), 'g: options must be an object, got null'],
      [(s) => s.defineVariable('g', 'integer', 1, [] as never), 'g: options must be an object, got an array'],
    ] as [Call, string][];
    for (const [call, message] of calls) {
      const error = await refusedAlike(
        () => call(embedded as never),
        () => call(remote),
      );
      expect(error).toMatchObject({ code: 'validation_failed', message: expect.stringMatching(message) });
    }
    await nc().flush();
    expect(sent).toEqual([]);
    // Right arguments still go through.
    await expect(remote.defineVariable('g', 'integer', 1, { description: 'g' })).resolves.toMatchObject({ version: 1 });
    await expect(remote.lockVariable('f', 'me')).resolves.toMatchObject({ lockedBy: 'me' });
    await expect(remote.unlockVariable('f', 'me')).resolves.toMatchObject({ lockedBy: null });
    await expect(remote.rollbackVariable('f', 1)).resolves.toMatchObject({ value: 1, version: 3 });
  });

  it('a wrong owner of a missing variable, and a wrong definition in a deleted session: the argument, not the state', async () => {
    const { client, embedded, remote } = await bothKinds('inp7');
    const sent = await sentRequests('inp7');
    // Embedded, the variable was looked up first: `variable_not_found` here, `validation_failed` remotely.
    for (const lock of ['lockVariable', 'unlockVariable'] as const) {
      const error = await refusedAlike(
        () => embedded[lock]('missing', 7 as never),
        () => remote[lock]('missing', 7 as never),
      );
      expect(error).toMatchObject({ message: "lock owner for 'missing' must be a string, got number" });
    }
    await nc().flush();
    expect(sent).toEqual([]);

    // Deleted through another client: embedded, the session's end was told first (`session_not_found`).
    await (await client.session('inp7', { create: false })).delete();
    const error = await refusedAlike(
      () => embedded.defineVariable('g', 'integer', 'one'),
      () => remote.defineVariable('g', 'integer', 'one'),
    );
    expect(error).toMatchObject({ code: 'validation_failed', variable: 'g' });
    // Right arguments hear that the session is gone, on both sides.
    await expect(embedded.defineVariable('g', 'integer', 1)).rejects.toMatchObject({ code: 'session_not_found' });
    await expect(remote.defineVariable('g', 'integer', 1)).rejects.toMatchObject({ code: 'session_not_found' });
  });
});
