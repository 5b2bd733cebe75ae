import { describe, expect, it } from 'vitest';
import { useCliNode } from './support/cli-node.js';

const { inProcess, tether } = useCliNode();

describe('cli', () => {
  it('module create takes the whole spec from --spec, and adds --bind to its bindings; module list lists it', async () => {
    const s = ['--session', 'cli-spec'];
    expect((await inProcess(['var', 'define', 't', 'float', '0.3', ...s])).code).toBe(0);
    expect((await inProcess(['var', 'define', 'mt', 'integer', '64', ...s])).code).toBe(0);
    const spec = '{"type":"Predict","signature":"question -> answer","bindings":{"temperature":"t"}}';
    const created = await inProcess(['module', 'create', 'qa', '--spec', spec, '--bind', 'maxTokens=mt', ...s]);
    expect([created.code, created.stderr]).toEqual([0, '']);
    const called = await inProcess(['module', 'call', 'qa', '--input', 'question=bound?', ...s]);
    expect(called.code).toBe(0);
    // Both bindings were used: the spec's and the option's.
    expect(Object.keys(JSON.parse(called.stdout).provenance).sort()).toEqual(['mt', 't']);

    const [listed, json] = await Promise.all([
      inProcess(['module', 'list', ...s]),
      inProcess(['module', 'list', '--json', ...s]),
    ]);
    // One node serves this test: its process ran the one call.
    expect([listed.code, listed.stdout, listed.stderr]).toEqual([
      0,
      'qa  Predict  idle  1 completed, 0 failed on the node that answered\n',
      '',
    ]);
    expect(JSON.parse(json.stdout)).toEqual([expect.objectContaining({ moduleId: 'qa', completed: 1, failed: 0 })]);
  });

  it('module create reads the spec from stdin for --spec -, as module call reads --inputs -', async () => {
    const s = ['--session', 'cli-spec-stdin'];
    const spec = '{"type":"Predict","signature":"question -> answer"}\n';
    const created = await tether(['module', 'create', 'qa', '--spec', '-', ...s], spec);
    expect([created.code, created.stdout, created.stderr]).toEqual([
      0,
      'module qa (Predict) started in session cli-spec-stdin\n',
      '',
    ]);
    const called = await inProcess(['module', 'call', 'qa', '--input', 'question=piped?', ...s]);
    expect([called.code, JSON.parse(called.stdout).moduleType]).toEqual([0, 'Predict']);
  });

  // Found by mutation: keeping the spec's own type beside the option's passed every test (and then was refused).
  it("module create --type or --type-variable replaces the spec's type, whichever of the two it gives", async () => {
    const s = ['--session', 'cli-spec-type'];
    expect((await inProcess(['var', 'define', 'kind', 'module', 'ChainOfThought', ...s])).code).toBe(0);
    const create = (id: string, spec: object, ...option: string[]) =>
      inProcess([
        'module',
        'create',
        id,
        '--spec',
        JSON.stringify({ ...spec, signature: 'question -> answer' }),
        ...option,
        ...s,
      ]);
    const [typed, variable] = await Promise.all([
      create('qa', { typeVariable: 'kind' }, '--type', 'Predict'),
      create('cot', { type: 'Predict' }, '--type-variable', 'kind'),
    ]);
    expect([typed.code, typed.stdout, typed.stderr]).toEqual([
      0,
      'module qa (Predict) started in session cli-spec-type\n',
      '',
    ]);
    expect([variable.code, variable.stdout, variable.stderr]).toEqual([
      0,
      'module cot (ChainOfThought) started in session cli-spec-type\n',
      '',
    ]);
  });

  it('module create of an id a module has is already_exists (exit 1), and leaves that module as it was', async () => {
    const s = ['--session', 'cli-create-twice'];
    const create = ['module', 'create', 'qa', '--signature', 'question -> answer', ...s];
    expect((await inProcess([...create, '--type', 'Predict'])).code).toBe(0);
    const again = await inProcess([...create, '--type', 'ChainOfThought']);
    expect([again.code, again.stdout, again.stderr]).toEqual([
      1,
      '',
      "tether: already_exists: module 'qa' already exists\n",
    ]);
    const listed = await inProcess(['module', 'list', ...s]);
    expect([listed.code, listed.stdout]).toEqual([
      0,
      'qa  Predict  idle  0 completed, 0 failed on the node that answered\n',
    ]);
  });

  it('module stop stops a module for good (exit 0); calling or stopping it then, or an unknown one, is module_not_found', async () => {
    const s = ['--session', 'cli-stop'];
    expect((await inProcess(['var', 'define', 't', 'float', '0.3', ...s])).code).toBe(0);
    const create = ['module', 'create', 'qa', '--type', 'Predict', '--signature', 'question -> answer', ...s];
    expect((await inProcess(create)).code).toBe(0);
    expect((await inProcess(['module', 'call', 'qa', '--input', 'question=up?', ...s])).code).toBe(0);
    const [stopped, unknown] = await Promise.all([
      inProcess(['module', 'stop', 'qa', ...s]),
      inProcess(['module', 'stop', 'nope', ...s]),
    ]);
    expect([stopped.code, stopped.stdout, stopped.stderr]).toEqual([0, 'module qa stopped\n', '']);
    expect([unknown.code, unknown.stdout, unknown.stderr]).toEqual([
      1,
      '',
      "tether: module_not_found: module 'nope' not found in session 'cli-stop'\n",
    ]);
    const [call, again, listed] = await Promise.all([
      inProcess(['module', 'call', 'qa', '--input', 'question=still there?', ...s]),
      inProcess(['module', 'stop', 'qa', ...s]),
      inProcess(['module', 'list', ...s]),
    ]);
    const gone = "tether: module_not_found: module 'qa' not found in session 'cli-stop'\n";
    expect([call.code, call.stdout, call.stderr]).toEqual([1, '', gone]);
    expect([again.code, again.stderr]).toEqual([1, gone]);
    expect([listed.code, listed.stdout]).toEqual([0, '']);
    // The id is free again: a new module takes it.
    const recreated = await inProcess(create);
    expect([recreated.code, recreated.stdout]).toEqual([0, 'module qa (Predict) started in session cli-stop\n']);
  });
});
