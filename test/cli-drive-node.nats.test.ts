import { describe, expect, it } from 'vitest';
import { errorLines, jsonLines } from './support/cli-runners.js';
import { useCliNode } from './support/cli-node.js';

const { tether, start, inProcess } = useCliNode();

describe('cli', () => {
  it('drives a real node: define, set, get, list, watch, events, module create and call; exit codes 0, 1, 2, 3', async () => {
    const s = ['--session', 'cli-1'];
    // Some twenty CLI processes, about 10 s on an idle machine: twice the default time, for a busy one.
    // Independent checks first, side by side: each spawn costs about half a second.
    const [help, usage, unreachable, noNode] = await Promise.all([
      tether(['--help']),
      tether(['var', 'set', 'temperature', ...s]),
      tether(['var', 'get', 'temperature', ...s, '--nats', 'nats://127.0.0.1:1']),
      // No node serves this prefix: the request has no responders.
      tether(['var', 'get', 'temperature', ...s, '--prefix', 'nobody']),
    ]);
    expect(help.code).toBe(0);
    for (const command of [
      'serve',
      'var define',
      'var get',
      'var set',
      'var list',
      'var watch',
      'var delete',
      'var history',
      'var lock',
      'var export',
      'var import',
      'var unlock',
      'session delete',
      'module create',
      'module call',
      'module list',
      'module stop',
      'events',
    ]) {
      expect(help.stdout).toContain(command);
    }
    expect(usage.code).toBe(2);
    expect(errorLines(usage)).toEqual(['tether: usage: missing <value> (see: tether var set --help)']);
    expect(unreachable.code).toBe(3);
    expect(errorLines(unreachable)).toEqual([
      'tether: nats_unreachable: cannot reach NATS at nats://127.0.0.1:1 (CONNECTION_REFUSED)',
    ]);
    expect(noNode.code).toBe(3);
    expect(errorLines(noNode)).toHaveLength(1);
    expect(errorLines(noNode)).toEqual([
      "tether: noproc: no tether node serves 'nobody.v1.session.cli-1.var.describe': is a tether node running on this " +
        'NATS (tether serve), with the same --prefix (TETHER_PREFIX)?',
    ]);

    const [temperature, style] = await Promise.all([
      tether([
        'var',
        'define',
        'temperature',
        'float',
        '0.7',
        '--constraints',
        '{"min":0,"max":2}',
        '--description',
        'sampling temperature',
        ...s,
      ]),
      inProcess([
        'var',
        'define',
        'style',
        'choice',
        'terse',
        '--constraints',
        '{"choices":["terse","verbose"]}',
        ...s,
      ]),
    ]);
    expect([temperature.code, temperature.stdout, temperature.stderr]).toEqual([
      0,
      'temperature = 0.7  (float, v1)\n',
      '',
    ]);
    expect([style.code, style.stdout]).toEqual([0, 'style = "terse"  (choice, v1)\n']);

    const watch = start(['var', 'watch', 'temp*', '--initial', ...s]);
    const events = start(['events', ...s]);
    await Promise.all([watch.until('stderr', /watching/), events.until('stderr', /listening on/)]);

    const [set, outOfRange, conflict] = await Promise.all([
      tether(['var', 'set', 'temperature', '0.9', '--updated-by', 'tuner', '--json', ...s]),
      tether(['var', 'set', 'temperature', '-1', ...s]),
      inProcess(['var', 'set', 'style', 'verbose', '--expected-version', '7', ...s]),
    ]);
    expect(set.code).toBe(0);
    expect(JSON.parse(set.stdout)).toMatchObject({ name: 'temperature', value: 0.9, version: 2, updatedBy: 'tuner' });
    expect(outOfRange.code).toBe(1);
    expect(errorLines(outOfRange)).toEqual(['tether: validation_failed: temperature: value -1 is below minimum 0']);
    expect(conflict.code).toBe(1);
    expect(errorLines(conflict)).toEqual([
      "tether: version_conflict: variable 'style' is at version 1, expected version 7",
    ]);

    const [get, list, missing, create] = await Promise.all([
      tether(['var', 'get', 'temperature', ...s]),
      tether(['var', 'list', '--json', ...s]),
      inProcess(['var', 'get', 'nope', ...s]),
      tether([
        'module',
        'create',
        'qa',
        '--type',
        'Predict',
        '--signature',
        'question:string -> answer:string',
        '--bind',
        'temperature=temperature',
        ...s,
      ]),
    ]);
    expect([get.code, get.stdout]).toEqual([0, '0.9\n']);
    expect((JSON.parse(list.stdout) as { name: string; value: unknown }[]).map((r) => [r.name, r.value])).toEqual([
      ['style', 'terse'],
      ['temperature', 0.9],
    ]);
    expect(missing.code).toBe(1);
    expect(errorLines(missing)).toEqual(["tether: variable_not_found: variable 'nope' not found in session 'cli-1'"]);
    expect([create.code, create.stderr]).toEqual([0, '']);
    expect(create.stdout).toBe('module qa (Predict) started in session cli-1\n');

    const call = await tether(['module', 'call', 'qa', '--input', 'question=Why is the sky blue?', ...s]);
    expect([call.code, call.stderr]).toEqual([0, '']);
    const result = JSON.parse(call.stdout) as {
      moduleId: string;
      output: { answer: string };
      provenance: Record<string, number>;
      model: string;
      usage: Record<string, number>;
    };
    expect(result.moduleId).toBe('qa');
    expect(result.provenance).toEqual({ temperature: 2 });
    // What the offline model reports of the model it was asked for and the tokens it used.
    expect([result.model, result.usage]).toEqual([
      'tether-echo',
      { promptTokens: 0, completionTokens: 0, totalTokens: 0 },
    ]);
    // The offline model echoes the parameters it was sent: the value set through the CLI.
    expect(result.output.answer).toContain('temperature=0.9');
    // The inputs as one JSON object, given or piped in.
    const [given, piped] = await Promise.all([
      tether(['module', 'call', 'qa', '--inputs', '{"question":"Given whole?"}', ...s]),
      tether(['module', 'call', 'qa', '--inputs', '-', ...s], '{"question":"Piped in?"}\n'),
    ]);
    expect([given.code, piped.code, given.stderr, piped.stderr]).toEqual([0, 0, '', '']);
    expect(JSON.parse(given.stdout).output.answer).toContain('Given whole?');
    expect(JSON.parse(piped.stdout).output.answer).toContain('Piped in?');
    const misspelt = await inProcess(['module', 'call', 'qa', '--input', 'qestion=Why?', ...s]);
    expect(misspelt.code).toBe(1);
    expect(errorLines(misspelt)).toEqual([
      "tether: validation_failed: unknown input field 'qestion'; this program takes: question (a string)",
    ]);

    const [watched, heard] = await Promise.all([watch.stop('SIGINT'), events.stop('SIGTERM')]);
    expect(watched.code).toBe(0);
    expect(jsonLines(watched)).toEqual([
      { name: 'temperature', newValue: 0.7, version: 1, updatedBy: null },
      { name: 'temperature', oldValue: 0.7, newValue: 0.9, version: 2, updatedBy: 'tuner' },
    ]);
    expect(heard.code).toBe(0);
    const seen = jsonLines<{ kind: string; name: string; data: { type?: string } }>(heard);
    expect(seen.find((e) => e.kind === 'var')).toMatchObject({
      name: 'temperature',
      data: { newValue: 0.9, oldValue: 0.7, version: 2 },
    });
    expect(seen.some((e) => e.kind === 'module' && e.name === 'qa' && e.data.type === 'module.result')).toBe(true);
  }, 40_000);
});
