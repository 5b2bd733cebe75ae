import { afterEach, describe, expect, it } from 'vitest';
import { Runtime } from '../../src/index.js';
import { createEchoModel } from '../../src/modules/index.js';
import type { Session } from '../../src/session/session.js';
import type { VariableChange } from '../../src/session/session-context.js';
import { useNatsFixture } from '../support/nats-fixture.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();
const embedded: Runtime[] = [];
afterEach(async () => {
  await Promise.all(embedded.splice(0).map((runtime) => runtime.stop()));
});

/**
 * The session API on an embedded runtime, on a NATS node (its own handle), and from a remote client; their modules
 * run on the offline model.
 */
const setups: [string, (id: string) => Promise<Session>][] = [
  [
    'embedded',
    async (id) => {
      const runtime = await Runtime.start({ onError: () => {}, llm: createEchoModel() });
      embedded.push(runtime);
      return runtime.session(id);
    },
  ],
  ['NATS node', async (id) => (await fx().runtime(fx().buckets(), { llm: createEchoModel() })).session(id)],
  [
    'remote client',
    async (id) => {
      await fx().node(fx().buckets(), { llm: createEchoModel() });
      // Typed as the embedded handle: the remote one has the same methods and return shapes.
      return (await fx().client()).session(id) as unknown as Promise<Session>;
    },
  ],
];

/**
 * How one part of a returned value behaves: `frozen` when `Object.isFrozen` holds and an assignment to it throws
 * (the test file is a module, so strict), `mutable` when neither, and anything else spelt out. The assignment
 * writes a property's own value back (or an array's `length`), so a mutable part is left as it was.
 */
function behaviour(part: unknown): string {
  if (typeof part !== 'object' || part === null) return `not an object: ${String(part)}`;
  const key = Array.isArray(part) ? 'length' : (Object.keys(part)[0] ?? 'probe');
  let throws = false;
  try {
    (part as Record<string, unknown>)[key] = (part as Record<string, unknown>)[key];
  } catch (error) {
    throws = error instanceof TypeError;
  }
  const frozen = Object.isFrozen(part);
  if (frozen && throws) return 'frozen';
  if (!frozen && !throws) return 'mutable';
  return `isFrozen ${String(frozen)}, assignment ${throws ? 'throws' : 'passes'}`;
}

/** A record's parts: the record, its value and an array inside it, its metadata and an array inside that. */
const recordParts = (record: { value: unknown; metadata: unknown }) => ({
  record,
  value: record.value,
  'value.a': (record.value as { a: unknown }).a,
  metadata: record.metadata,
  'metadata.tags': (record.metadata as { tags: unknown }).tags,
});

/**
 * What each method returns, by part, and how the embedded runtime hands it out: a variable's stored state (its
 * records, values, constraints, metadata) frozen to the last nested array; the containers a call builds for its
 * answer (lists, maps of reads, history entries, export entries, batch outcomes) the caller's own, as `[].map`'s.
 */
const EXPECTED: Record<string, string> = {};
const expectParts = (method: string, parts: Record<string, string>) => {
  for (const [part, how] of Object.entries(parts)) EXPECTED[`${method} ${part}`] = how;
};
const RECORD = {
  record: 'frozen',
  value: 'frozen',
  'value.a': 'frozen',
  metadata: 'frozen',
  'metadata.tags': 'frozen',
};
const WRITES = [
  'defineVariable',
  'setVariable',
  'updateVariable',
  'rollbackVariable',
  'lockVariable',
  'unlockVariable',
];
for (const method of [...WRITES, 'describeVariable']) expectParts(method, RECORD);
expectParts('defineVariable(choice)', { constraints: 'frozen', 'constraints.choices': 'frozen' });
expectParts('getVariable', { value: 'frozen', 'value.a': 'frozen' });
expectParts('listVariables', { list: 'mutable', ...RECORD });
expectParts('getVariables', {
  result: 'mutable',
  found: 'mutable',
  missing: 'mutable',
  value: 'frozen',
  'value.a': 'frozen',
});
expectParts('readVariables', {
  result: 'mutable',
  found: 'mutable',
  entry: 'mutable',
  value: 'frozen',
  'value.a': 'frozen',
});
expectParts('setVariables', { outcomes: 'mutable', outcome: 'mutable' });
expectParts('variableHistory', { list: 'mutable', entry: 'mutable', value: 'frozen', 'value.a': 'frozen' });
expectParts('exportVariables', {
  list: 'mutable',
  entry: 'mutable',
  value: 'frozen',
  'value.a': 'frozen',
  metadata: 'frozen',
  'metadata.tags': 'frozen',
  constraints: 'frozen',
  'constraints.choices': 'frozen',
});
// One change is handed to every watcher of the session: frozen, so that no listener changes what the next one hears.
for (const change of ['initial', 'update', 'delete'])
  expectParts(`watchVariables ${change}`, { change: 'frozen', value: 'frozen', 'value.a': 'frozen' });

/** Collects how each part of each answer behaves, as `'<method> <part>': behaviour`. */
function notes(): { seen: Record<string, string>; note: (method: string, parts: Record<string, unknown>) => void } {
  const seen: Record<string, string> = {};
  return {
    seen,
    note: (method, parts) => {
      for (const [part, value] of Object.entries(parts)) seen[`${method} ${part}`] = behaviour(value);
    },
  };
}

/** Calls every value-returning method of `session` and tells how each part of each answer behaves. */
async function behaviours(session: Session): Promise<Record<string, string>> {
  const { seen, note } = notes();
  const options = { metadata: { tags: ['x'] } };
  note('defineVariable', recordParts(await session.defineVariable('cfg', 'json', { a: [1] }, options)));
  const choice = await session.defineVariable('c', 'choice', 'a', { constraints: { choices: ['a', 'b'] } });
  note('defineVariable(choice)', {
    constraints: choice.constraints,
    'constraints.choices': (choice.constraints as { choices: unknown }).choices,
  });
  const changes: VariableChange[] = [];
  await session.watchVariables('cfg', (change) => changes.push(change), { includeInitial: true });

  note('setVariable', recordParts(await session.setVariable('cfg', { a: [1, 2] })));
  note('updateVariable', recordParts(await session.updateVariable('cfg', () => ({ a: [3] }))));
  const value = await session.getVariable('cfg');
  note('getVariable', { value, 'value.a': (value as { a: unknown }).a });
  note('describeVariable', recordParts(await session.describeVariable('cfg')));
  const list = await session.listVariables('cfg');
  note('listVariables', { list, ...recordParts(list[0]!) });

  const many = await session.getVariables(['cfg', 'nope']);
  const got = many.found.cfg as { a: unknown };
  note('getVariables', { result: many, found: many.found, missing: many.missing, value: got, 'value.a': got.a });
  const read = await session.readVariables(['cfg']);
  const entry = read.found.cfg!;
  const readValue = entry.value as { a: unknown };
  note('readVariables', { result: read, found: read.found, entry, value: readValue, 'value.a': readValue.a });
  const outcomes = await session.setVariables({ cfg: { a: [4] } });
  note('setVariables', { outcomes, outcome: outcomes.cfg });

  const history = await session.variableHistory('cfg');
  const historyValue = history[0]!.value as { a: unknown };
  note('variableHistory', { list: history, entry: history[0], value: historyValue, 'value.a': historyValue.a });
  note('rollbackVariable', recordParts(await session.rollbackVariable('cfg', 1)));
  note('lockVariable', recordParts(await session.lockVariable('cfg', 'me')));
  note('unlockVariable', recordParts(await session.unlockVariable('cfg', 'me')));

  const exported = await session.exportVariables();
  const [c, cfg] = exported as [(typeof exported)[number], (typeof exported)[number]];
  note('exportVariables', {
    list: exported,
    entry: cfg,
    value: cfg.value,
    'value.a': (cfg.value as { a: unknown }).a,
    metadata: cfg.metadata,
    'metadata.tags': (cfg.metadata as { tags: unknown }).tags,
    constraints: c.constraints,
    'constraints.choices': (c.constraints as { choices: unknown }).choices,
  });

  await session.deleteVariable('cfg');
  // The initial value, then setVariable, updateVariable, setVariables, rollbackVariable, and the delete.
  await waitFor(() => changes.length === 6, { message: 'every change of cfg heard' });
  const [initial, update, deleted] = [changes[0]!, changes[1]!, changes[5]!];
  for (const [label, change, part] of [
    ['initial', initial, initial.newValue],
    ['update', update, update.newValue],
    ['delete', deleted, deleted.oldValue],
  ] as const)
    note(`watchVariables ${label}`, { change, value: part, 'value.a': (part as { a: unknown }).a });
  return seen;
}

/**
 * What a module handle returns, by part: a result frozen, its output throughout, its `provenance` and its `syncFailed`
 * error (the caller and every listener share one result embedded; with a type variable too); the events listeners
 * hear, a sync's changes and the variable values they report, a refused sync's error (every listener shares one event
 * embedded); a description the caller's.
 */
const EXPECTED_OF_MODULES: Record<string, string> = {
  'execute result': 'frozen',
  'execute output': 'frozen',
  'execute output.tags': 'frozen',
  'execute provenance': 'frozen',
  'execute(typeVariable) provenance': 'frozen',
  'describe description': 'mutable',
  'on(module.result) event': 'frozen',
  'on(module.result) result': 'frozen',
  'on(module.result) output': 'frozen',
  'on(module.result) output.tags': 'frozen',
  'on(module.result) provenance': 'frozen',
  'on(module.synced) event': 'frozen',
  'on(module.synced) changes': 'frozen',
  'on(module.synced) pair': 'frozen',
  'on(module.synced) old': 'frozen',
  'on(module.synced) new': 'frozen',
  'execute syncFailed': 'frozen',
  'execute syncFailed.details': 'frozen',
  'on(module.syncFailed) error': 'frozen',
  'on(module.syncFailed) details': 'frozen',
};

/** Runs executions of modules of `session` and tells how each part of what their handles returned behaves. */
async function moduleBehaviours(session: Session): Promise<Record<string, string>> {
  const { seen, note } = notes();
  await session.defineVariable('t', 'float', 0.5);
  await session.defineVariable('kind', 'module', 'Predict');
  await session.defineVariable('stops', 'list', ['x']);
  const signature = 'question:string -> answer:string, tags:string[]';
  const plain = await session.module('plain', { type: 'Predict', signature, bindings: { temperature: 't' } });
  const typed = await session.module('typed', {
    typeVariable: 'kind',
    signature,
    bindings: { temperature: 't', stopSequences: 'stops' },
  });
  const results: { result: { output: unknown; provenance: unknown } }[] = [];
  const syncs: { outcome: { changes: Readonly<Record<string, readonly [unknown, unknown]>> } }[] = [];
  plain.on('module.result', (event) => results.push(event));
  typed.on('module.synced', (event) => syncs.push(event));

  const result = await plain.execute({ question: 'q' });
  const tags = (result.output as { tags: unknown }).tags;
  note('execute', { result, output: result.output, 'output.tags': tags, provenance: result.provenance });
  note('execute(typeVariable)', { provenance: (await typed.execute({ question: 'q' })).provenance });
  note('describe', { description: await plain.describe() });
  await waitFor(() => results.length === 1, { message: 'the module.result event heard' });
  const [heard] = results as [(typeof results)[number]];
  const { output, provenance } = heard.result;
  const heardTags = (output as { tags: unknown }).tags;
  note('on(module.result)', { event: heard, result: heard.result, output, 'output.tags': heardTags, provenance });

  await session.setVariable('stops', ['y']);
  await typed.execute({ question: 'q' });
  const synced = await waitFor(() => syncs.find((event) => 'stopSequences' in event.outcome.changes), {
    message: 'the sync of the new stop sequences heard',
  });
  const [old, now] = synced.outcome.changes.stopSequences!;
  const pair = synced.outcome.changes.stopSequences;
  note('on(module.synced)', { event: synced, changes: synced.outcome.changes, pair, old, new: now });

  // A refused sync (a float takes NaN, a bound temperature does not): its error, in the result and in the event.
  const refusals: { error: { details?: unknown } }[] = [];
  plain.on('module.syncFailed', (event) => refusals.push(event));
  await session.setVariable('t', Number.NaN);
  const refused = (await plain.execute({ question: 'q' })).syncFailed as { details: unknown };
  note('execute', { syncFailed: refused, 'syncFailed.details': refused.details });
  const [heardRefusal] = await waitFor(() => (refusals.length === 1 ? refusals : undefined), {
    message: 'the refused sync heard',
  });
  note('on(module.syncFailed)', { error: heardRefusal!.error, details: heardRefusal!.error.details });
  return seen;
}

describe('what a session returns', () => {
  it.each(setups)('is frozen where the embedded runtime freezes it, and only there: %s', async (_kind, open) => {
    expect(await behaviours(await open('frozen-returns'))).toEqual(EXPECTED);
  });
});

describe('what a module handle returns', () => {
  it.each(setups)('is frozen where the embedded runtime freezes it, and only there: %s', async (_kind, open) => {
    expect(await moduleBehaviours(await open('frozen-module-returns'))).toEqual(EXPECTED_OF_MODULES);
  });
});
