import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { runCliProcess } from './support/cli-process.js';
import { startNatsServer } from './support/nats-server.js';
import { errorLines } from './support/cli-runners.js';
import { useCliNode } from './support/cli-node.js';

const { start, tether, inProcess, server } = useCliNode();

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
    };
    expect(result.moduleId).toBe('qa');
    expect(result.provenance).toEqual({ temperature: 2 });
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
    expect(
      watched.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as unknown),
    ).toEqual([
      { name: 'temperature', newValue: 0.7, version: 1, updatedBy: null },
      { name: 'temperature', oldValue: 0.7, newValue: 0.9, version: 2, updatedBy: 'tuner' },
    ]);
    expect(heard.code).toBe(0);
    const seen = heard.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { kind: string; name: string; data: { type?: string } });
    expect(seen.find((e) => e.kind === 'var')).toMatchObject({
      name: 'temperature',
      data: { newValue: 0.9, oldValue: 0.7, version: 2 },
    });
    expect(seen.some((e) => e.kind === 'module' && e.name === 'qa' && e.data.type === 'module.result')).toBe(true);
  }, 40_000);

  it('refuses a JSON typo for a json variable (exit 2, value unchanged) and stores brace text in a string', async () => {
    const s = ['--session', 'cli-typo'];
    await inProcess(['var', 'define', 'cfg', 'json', '{"retries":3}', ...s]);
    await inProcess(['var', 'define', 'greeting', 'string', 'hi', ...s]);
    const [typo, brokenDefine, template] = await Promise.all([
      inProcess(['var', 'set', 'cfg', '{"retries":4,}', ...s]),
      inProcess(['var', 'define', 'dims', 'list', '[1, 2', ...s]),
      inProcess(['var', 'set', 'greeting', '{name} says hi', ...s]),
    ]);
    expect(typo.code).toBe(2);
    expect(errorLines(typo)).toHaveLength(1);
    expect(typo.stderr).toMatch(/^tether: usage: the value for a json variable is not valid JSON: .*var set --help/);
    expect(brokenDefine.code).toBe(2);
    expect([template.code, template.stderr]).toEqual([0, '']);
    const [cfg, greeting, dims] = await Promise.all([
      inProcess(['var', 'get', 'cfg', ...s]),
      inProcess(['var', 'get', 'greeting', ...s]),
      inProcess(['var', 'get', 'dims', ...s]),
    ]);
    expect([cfg.stdout, greeting.stdout, dims.code]).toEqual(['{"retries":3}\n', '"{name} says hi"\n', 1]);
  });

  it('var watch on a session nobody opened exits 1 (session_not_found), and 3 (noproc) with no node', async () => {
    const [unknown, noNode] = await Promise.all([
      inProcess(['var', 'watch', '--session', 'nosuch']),
      inProcess(['var', 'watch', '--session', 'nosuch', '--prefix', 'nobody']),
    ]);
    expect([unknown.code, unknown.stderr]).toEqual([1, "tether: session_not_found: session 'nosuch' not found\n"]);
    expect(noNode.code).toBe(3);
    expect(noNode.stderr).toMatch(/^tether: noproc: /);
    expect(unknown.stdout + noNode.stdout).toBe('');
  });

  it('session delete removes a session for good (exit 0), then exits 1 with session_not_found', async () => {
    const s = ['--session', 'cli-del'];
    expect((await inProcess(['var', 'define', 'x', 'integer', '1', ...s])).code).toBe(0);
    const deleted = await tether(['session', 'delete', 'cli-del']);
    expect([deleted.code, deleted.stdout, deleted.stderr]).toEqual([0, 'session cli-del deleted\n', '']);
    const [again, read, bad, noNode] = await Promise.all([
      inProcess(['session', 'delete', 'cli-del']),
      inProcess(['var', 'get', 'x', ...s]),
      inProcess(['session', 'delete', 'a.b']),
      inProcess(['session', 'delete', 'cli-del', '--prefix', 'nobody']),
    ]);
    expect([again.code, again.stderr]).toEqual([1, "tether: session_not_found: session 'cli-del' not found\n"]);
    expect([read.code, read.stderr]).toEqual([1, "tether: session_not_found: session 'cli-del' not found\n"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^tether: validation_failed: .*'a\.b'.*\n$/);
    expect(noNode.code).toBe(3);
    // Defined again, the id is a new session, with none of the old variables.
    expect((await inProcess(['var', 'define', 'y', 'integer', '2', ...s])).code).toBe(0);
    expect((await inProcess(['var', 'list', ...s])).stdout).not.toContain('x =');
  });

  it('ends var watch with exit 1 and one line once its session is deleted, rather than watch on for ever', async () => {
    const s = ['--session', 'cli-watch-end'];
    expect((await inProcess(['var', 'define', 'w', 'integer', '0', ...s])).code).toBe(0);
    const watch = start(['var', 'watch', ...s]);
    await watch.until('stderr', /watching/);
    expect((await inProcess(['session', 'delete', 'cli-watch-end'])).code).toBe(0);
    const ended = await watch.exited;
    expect(ended.code).toBe(1);
    expect(ended.stderr).toBe(
      "tether: watching '*' in session cli-watch-end; Ctrl-C stops\n" +
        "tether: session_not_found: session 'cli-watch-end' not found\n",
    );
  });

  it('ends var watch and events quietly (exit 0) once nobody reads their output, as `| head -1` does', async () => {
    const s = ['--session', 'cli-pipe'];
    await inProcess(['var', 'define', 'p', 'integer', '0', ...s]);
    const watch = start(['var', 'watch', 'p', ...s]);
    const events = start(['events', ...s]);
    await Promise.all([watch.until('stderr', /watching/), events.until('stderr', /listening on/)]);
    // The reader goes away; the next line either command writes finds the pipe closed.
    watch.child.stdout?.destroy();
    events.child.stdout?.destroy();
    expect((await inProcess(['var', 'set', 'p', '1', ...s])).code).toBe(0);
    const [watched, heard] = await Promise.all([watch.exited, events.exited]);
    expect([watched.code, watched.stderr]).toEqual([0, "tether: watching 'p' in session cli-pipe; Ctrl-C stops\n"]);
    expect([heard.code, heard.stderr]).toEqual([0, 'tether: listening on tether.v1.events.cli-pipe.>; Ctrl-C stops\n']);
  });

  it('connects to a NATS that needs a user and password, given in the URL or in NATS_USER and NATS_PASSWORD', async () => {
    const guarded = await startNatsServer({ config: 'authorization { users: [ { user: al, password: s3cr } ] }' });
    onTestFinished(() => guarded.stop());
    const { port } = new URL(guarded.url);
    const run = (nats: string, env: Record<string, string> = {}) =>
      runCliProcess(['var', 'list', '-s', 'x', '--nats', nats], env);
    const [inUrl, inEnv, without] = await Promise.all([
      run(`nats://al:s3cr@127.0.0.1:${port}`),
      run(`nats://127.0.0.1:${port}`, { NATS_USER: 'al', NATS_PASSWORD: 's3cr' }),
      run(`nats://127.0.0.1:${port}`),
    ]);
    // Let in, the commands find no node there (noproc); without credentials the server refuses the connection.
    for (const allowed of [inUrl, inEnv]) expect(allowed.stderr).toMatch(/^tether: noproc: /);
    expect(without.stderr).toMatch(/^tether: nats_unreachable: cannot reach NATS at nats:\/\/127\.0\.0\.1:\d+ /);
    // The password is never printed.
    expect(inUrl.stderr + inEnv.stderr).not.toContain('s3cr');
  });

  // Found by a review: it said "cannot reach NATS at tls://… (SERVER_OPT_NA)", nats.js's code, of a server it reached.
  it('says a server offers no TLS when a tls:// URL reaches one without, exit 3', async () => {
    const plain = await startNatsServer();
    onTestFinished(() => plain.stop());
    const tlsUrl = plain.url.replace(/^nats:/, 'tls:');
    const run = await runCliProcess(['var', 'get', 'x', '-s', 'a', '--nats', tlsUrl]);
    expect(run.code).toBe(3);
    expect(run.stderr).toBe(`tether: nats_unreachable: NATS at ${tlsUrl} offers no TLS, which a tls:// URL requires\n`);
  });

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

  it('reads .5 as a number and names a refused value as it was typed', async () => {
    const s = ['--session', 'cli-typed'];
    const [defined, text] = await Promise.all([
      inProcess(['var', 'define', 'neg', 'float', '-.5', ...s]),
      inProcess(['var', 'define', 'ver', 'string', '.5', ...s]),
    ]);
    expect([defined.code, defined.stdout, defined.stderr]).toEqual([0, 'neg = -0.5  (float, v1)\n', '']);
    expect([text.code, text.stdout]).toEqual([0, 'ver = ".5"  (string, v1)\n']);
    const [set, refused] = await Promise.all([
      inProcess(['var', 'set', 'neg', '.25', ...s]),
      inProcess(['var', 'set', 'ver', '2.0', ...s]),
    ]);
    expect([set.code, set.stdout]).toEqual([0, 'neg = 0.25  (float, v2)\n']);
    // Bare, as Infinity is written: not read as an option.
    const infinite = await inProcess(['var', 'set', 'neg', '-Infinity', ...s]);
    expect([infinite.code, infinite.stdout]).toEqual([0, 'neg = "-Infinity"  (float, v3)\n']);
    expect([refused.code, refused.stderr]).toEqual([
      1,
      `tether: validation_failed: ver: must be a string, got 2 (typed '2.0', read as JSON; to store it as text, quote it: '"2.0"')\n`,
    ]);
  });

  it("reads a value given as '-' from stdin, past the 128 KiB one argument may hold, less one trailing newline", async () => {
    const s = ['--session', 'cli-stdin'];
    // 210,000 characters, lines of them: more than one argument may hold (spawning with it fails with E2BIG).
    const prompt = 'You are terse.\n'.repeat(15_000);
    const defined = await tether(['var', 'define', 'prompt', 'string', '-', ...s, '--json'], prompt);
    expect([defined.code, defined.stderr]).toEqual([0, '']);
    expect(JSON.parse(defined.stdout)).toMatchObject({ value: prompt.slice(0, -1), version: 1 });
    // Read as typed: JSON when it parses, and `echo 0.7 |` gives 0.7 with its newline.
    const [number, dash] = await Promise.all([
      tether(['var', 'define', 'temperature', 'float', '-', ...s], '0.7\n'),
      tether(['var', 'define', 'marker', 'string', '"-"', ...s]),
    ]);
    expect([number.code, number.stdout]).toEqual([0, 'temperature = 0.7  (float, v1)\n']);
    expect([dash.code, dash.stdout]).toEqual([0, 'marker = "-"  (string, v1)\n']);
    const set = await tether(['var', 'set', 'prompt', '-', ...s, '--json'], 'Be brief.\n\n');
    expect(JSON.parse(set.stdout)).toMatchObject({ value: 'Be brief.\n', version: 2 });
    // A JSON document piped into a string variable, kept as the text it is with --text; and text like a number.
    const schema = '{\n  "type": "object"\n}\n';
    const [document, digits] = await Promise.all([
      tether(['var', 'define', 'schema_doc', 'string', '-', '--text', ...s, '--json'], schema),
      inProcess(['var', 'define', 'release', 'string', '1.10', '--text', ...s]),
    ]);
    expect(JSON.parse(document.stdout)).toMatchObject({ value: schema.slice(0, -1) });
    expect(digits.stdout).toBe('release = "1.10"  (string, v1)\n');
    expect((await inProcess(['var', 'set', 'release', '1e400', '--text', ...s])).stdout).toBe(
      'release = "1e400"  (string, v2)\n',
    );
    // Without it, the document is JSON, which a string variable refuses, and the refusal does not repeat it.
    const parsed = await tether(['var', 'set', 'schema_doc', '-', ...s], schema);
    expect([parsed.code, errorLines(parsed)]).toEqual([
      1,
      [
        'tether: validation_failed: schema_doc: must be a string, got an object (read from stdin as JSON; to store it ' +
          'as text, give --text)',
      ],
    ]);
    const refused = await tether(['var', 'set', 'temperature', '-', ...s], '{"oops"\n');
    expect([refused.code, errorLines(refused)]).toEqual([
      2,
      [expect.stringMatching(/^tether: usage: the value for a float variable is not valid JSON/)],
    ]);
  });

  it('var history prints one line per version, oldest first, with who and why when recorded; --json the entries', async () => {
    const s = ['--session', 'cli-history'];
    expect((await inProcess(['var', 'define', 'h', 'float', '0.7', ...s])).code).toBe(0);
    expect(
      (await inProcess(['var', 'set', 'h', '0.9', '--updated-by', 'alice', '--reason', 'tuning', ...s])).code,
    ).toBe(0);
    // NaN is no JSON: a float takes it as the text, and the history prints it as `var get` does.
    expect((await inProcess(['var', 'set', 'h', 'NaN', '--updated-by', 'bob', ...s])).code).toBe(0);
    const [lines, json, got, missing] = await Promise.all([
      inProcess(['var', 'history', 'h', ...s]),
      inProcess(['var', 'history', 'h', '--json', ...s]),
      inProcess(['var', 'get', 'h', ...s]),
      inProcess(['var', 'history', 'nope', ...s]),
    ]);
    expect([json.code, json.stderr, json.stdout.split('\n').length]).toEqual([0, '', 2]);
    const entries = JSON.parse(json.stdout) as { version: number; updatedAt: string }[];
    expect(entries).toEqual([
      { version: 1, type: 'float', value: 0.7, updatedAt: expect.any(String), updatedBy: null, reason: null },
      { version: 2, type: 'float', value: 0.9, updatedAt: expect.any(String), updatedBy: 'alice', reason: 'tuning' },
      { version: 3, type: 'float', value: 'NaN', updatedAt: expect.any(String), updatedBy: 'bob', reason: null },
    ]);
    const [v1, v2, v3] = entries.map((entry) => entry.updatedAt);
    expect([lines.code, lines.stderr]).toEqual([0, '']);
    expect(lines.stdout).toBe(`v1  0.7  ${v1}\nv2  0.9  ${v2}  by alice  (tuning)\nv3  "NaN"  ${v3}  by bob\n`);
    expect(got.stdout).toBe('"NaN"\n');
    expect([missing.code, missing.stdout, missing.stderr]).toEqual([
      1,
      '',
      "tether: variable_not_found: variable 'nope' not found in session 'cli-history'\n",
    ]);
  });

  it('var lock keeps writes, deletes and unlocks by anyone but the owner out (variable_locked) until var unlock', async () => {
    const s = ['--session', 'cli-lock'];
    expect((await inProcess(['var', 'define', 'temperature', 'float', '0.7', ...s])).code).toBe(0);
    expect((await inProcess(['var', 'define', 'k', 'integer', '1', ...s])).code).toBe(0);
    const [noOwner, noUnlockOwner, unknown] = await Promise.all([
      inProcess(['var', 'lock', 'temperature', ...s]),
      inProcess(['var', 'unlock', 'temperature', ...s]),
      inProcess(['var', 'lock', 'nope', '--owner', 'alice', ...s]),
    ]);
    expect([noOwner.code, noOwner.stdout, noOwner.stderr]).toEqual([
      2,
      '',
      'tether: usage: missing --owner <who> (see: tether var lock --help)\n',
    ]);
    expect([noUnlockOwner.code, noUnlockOwner.stderr]).toEqual([
      2,
      'tether: usage: missing --owner <who> (see: tether var unlock --help)\n',
    ]);
    expect([unknown.code, unknown.stderr]).toEqual([
      1,
      "tether: variable_not_found: variable 'nope' not found in session 'cli-lock'\n",
    ]);

    const locked = await inProcess(['var', 'lock', 'temperature', '--owner', 'alice', ...s]);
    expect([locked.code, locked.stdout, locked.stderr]).toEqual([
      0,
      'temperature = 0.7  (float, v1, locked by alice)\n',
      '',
    ]);
    const [again, listed, setByBob, setByNobody, lockByBob, unlockByBob, deleteByBob] = await Promise.all([
      inProcess(['var', 'lock', 'temperature', '--owner', 'alice', '--json', ...s]),
      inProcess(['var', 'list', ...s]),
      inProcess(['var', 'set', 'temperature', '0.9', '--updated-by', 'bob', ...s]),
      inProcess(['var', 'set', 'temperature', '0.9', ...s]),
      inProcess(['var', 'lock', 'temperature', '--owner', 'bob', ...s]),
      inProcess(['var', 'unlock', 'temperature', '--owner', 'bob', ...s]),
      inProcess(['var', 'delete', 'temperature', '--updated-by', 'bob', ...s]),
    ]);
    // Locking again by the owner changes nothing; a lock is no new version.
    expect(JSON.parse(again.stdout)).toMatchObject({ name: 'temperature', version: 1, lockedBy: 'alice' });
    expect(listed.stdout).toBe('k            integer  v1  1\ntemperature  float    v1  0.7  (locked by alice)\n');
    const refused = "tether: variable_locked: variable 'temperature' is locked by 'alice', not 'bob'\n";
    for (const run of [setByBob, lockByBob, unlockByBob, deleteByBob])
      expect([run.code, run.stdout, run.stderr]).toEqual([1, '', refused]);
    expect([setByNobody.code, setByNobody.stderr]).toEqual([
      1,
      "tether: variable_locked: variable 'temperature' is locked by 'alice'\n",
    ]);

    const setByAlice = await inProcess(['var', 'set', 'temperature', '0.9', '--updated-by', 'alice', ...s]);
    expect([setByAlice.code, setByAlice.stdout]).toEqual([0, 'temperature = 0.9  (float, v2, locked by alice)\n']);
    const unlocked = await inProcess(['var', 'unlock', 'temperature', '--owner', 'alice', '--json', ...s]);
    expect([unlocked.code, unlocked.stderr]).toEqual([0, '']);
    expect(JSON.parse(unlocked.stdout)).toMatchObject({ name: 'temperature', value: 0.9, version: 2, lockedBy: null });
    const setByBobNow = await inProcess(['var', 'set', 'temperature', '1.1', '--updated-by', 'bob', ...s]);
    expect([setByBobNow.code, setByBobNow.stdout]).toEqual([0, 'temperature = 1.1  (float, v3)\n']);
    // The lock and the unlock made no version of their own.
    const history = await inProcess(['var', 'history', 'temperature', '--json', ...s]);
    expect((JSON.parse(history.stdout) as { version: number }[]).map((entry) => entry.version)).toEqual([1, 2, 3]);
  });

  it('var delete removes a variable (a locked one only with its owner as --updated-by), then it is variable_not_found', async () => {
    const s = ['--session', 'cli-var-del'];
    expect((await inProcess(['var', 'define', 'd', 'integer', '1', ...s])).code).toBe(0);
    expect((await inProcess(['var', 'lock', 'd', '--owner', 'alice', ...s])).code).toBe(0);
    const refused = await inProcess(['var', 'delete', 'd', ...s]);
    expect([refused.code, refused.stderr]).toEqual([1, "tether: variable_locked: variable 'd' is locked by 'alice'\n"]);
    const deleted = await inProcess(['var', 'delete', 'd', '--updated-by', 'alice', ...s]);
    expect([deleted.code, deleted.stdout, deleted.stderr]).toEqual([0, 'variable d deleted\n', '']);
    const [read, again] = await Promise.all([
      inProcess(['var', 'get', 'd', ...s]),
      inProcess(['var', 'delete', 'd', ...s]),
    ]);
    const gone = "tether: variable_not_found: variable 'd' not found in session 'cli-var-del'\n";
    expect([read.code, read.stderr]).toEqual([1, gone]);
    expect([again.code, again.stdout, again.stderr]).toEqual([1, '', gone]);
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
  it('hands all of its output to a reader that takes it late (a pager), however long it takes', async () => {
    const s = ['--session', 'cli-late'];
    const value = 'd'.repeat(300_000);
    expect((await tether(['var', 'define', 'doc', 'string', '-', ...s], value)).code).toBe(0);
    // The reader takes nothing for 3 s: the pipe holds 64 KiB of the 300 KB, the rest waits in the command.
    const late = spawn(
      'bash',
      ['-c', `node --import tsx src/cli/main.ts var get doc ${s.join(' ')} | (sleep 3; wc -c)`],
      {
        cwd: fileURLToPath(new URL('..', import.meta.url)),
        env: { ...process.env, NATS_URL: server().url, TETHER_SESSION: '' },
      },
    );
    let counted = '';
    late.stdout.on('data', (chunk: Buffer) => void (counted += chunk.toString()));
    const code = await new Promise((resolve) => late.once('close', resolve));
    // The value as JSON (quoted) and its line's end.
    expect([code, counted.trim()]).toEqual([0, String(value.length + 3)]);
  }, 20_000);
});
