import { describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/cli.js';
import { cli, runCliInProcess } from './support/cli-in-process.js';

describe('cli', () => {
  it('refuses a malformed --session or --prefix as a usage error (exit 2) before connecting, naming the option', async () => {
    const nowhere = ['--nats', 'nats://127.0.0.1:1'];
    const cases: [string[], Record<string, string>, string][] = [
      [['var', 'get', 'x', '-s', '', ...nowhere], {}, "--session '' is no session id"],
      [['var', 'get', 'x', '-s', 'bad.id', ...nowhere], {}, "--session 'bad.id' is no session id"],
      [['var', 'get', 'x', ...nowhere], { TETHER_SESSION: 'a b' }, "TETHER_SESSION 'a b' is no session id"],
      [['module', 'call', 'qa', '--input', 'q=x', '-s', 'a.b', ...nowhere], {}, "--session 'a.b' is no session id"],
      [['events', '--session', 'a b', ...nowhere], {}, "--session 'a b' is no session id"],
      [['var', 'get', 'x', '-s', 'a', '--prefix', '', ...nowhere], {}, "--prefix '' is no subject prefix"],
      [['var', 'get', 'x', '-s', 'a', '--prefix', 'a b', ...nowhere], {}, "--prefix 'a b' is no subject prefix"],
      [['events', '--prefix', 'a.', ...nowhere], {}, "--prefix 'a.' is no subject prefix"],
      [['var', 'get', 'x', '-s', 'a', ...nowhere], { TETHER_PREFIX: 'a b' }, "TETHER_PREFIX 'a b' is no subject"],
      // A subject prefix, but too long for the buckets a node names after it (found in review).
      [['serve', '--prefix', 'p'.repeat(245), ...nowhere], {}, '--prefix is too long for the default sessions bucket'],
      [['serve', ...nowhere], { TETHER_PREFIX: 'p'.repeat(249) }, 'TETHER_PREFIX is too long for the default vars'],
      // Every command that connects reads it: the long-running ones are what it is for.
      [['serve', ...nowhere], { TETHER_PING_INTERVAL_MS: '0' }, 'TETHER_PING_INTERVAL_MS must be a whole number'],
      [['events', ...nowhere], { TETHER_PING_INTERVAL_MS: 'often' }, 'TETHER_PING_INTERVAL_MS must be a whole number'],
      [['var', 'watch', '-s', 'a', ...nowhere], { TETHER_PING_INTERVAL_MS: '1.5' }, 'TETHER_PING_INTERVAL_MS must be'],
      // A connection name the start line and the inspect feed print: neither empty nor able to split a line.
      [['serve', '--name', '', ...nowhere], {}, '--name must not be empty'],
      [['serve', '--name', 'node\n1', ...nowhere], {}, '--name holds U+000A at character 5: a connection name is one'],
      [['serve', '--name=\u001b[2J', ...nowhere], {}, '--name holds U+001B at character 1'],
      [['serve', '--name', 'a\u2028b', ...nowhere], {}, '--name holds U+2028 at character 2'],
      [['serve', '--name', 'n'.repeat(1025), ...nowhere], {}, '--name takes 1025 bytes as the server reads it (JSON)'],
    ];
    for (const [args, env, line] of cases) {
      let stderr = '';
      const code = await runCli(args, { out: () => {}, err: (text) => void (stderr += `${text}\n`), env });
      expect([code, stderr.split('\n').length], args.join(' ')).toEqual([2, 2]);
      expect(stderr, args.join(' ')).toMatch(new RegExp(`^tether: usage: ${line.replace(/[.+()[\]]/g, '\\$&')}`));
    }
    // The whole line, its cause written as an escape: nothing the user typed reaches the terminal raw.
    expect((await cli('serve', '--name', 'node\n1', ...nowhere)).stderr).toBe(
      'tether: usage: --name holds U+000A at character 5: a connection name is one line of text, without control ' +
        'characters or line breaks (see: tether serve --help)\n',
    );
    // A good name goes on to connect, and meets the unreachable NATS.
    expect((await cli('serve', '--name', 'nœud 1', ...nowhere)).code).toBe(3);
    expect((await cli('var', 'get', 'x', '-s', 'a', '--prefix', 'a b')).stderr).toBe(
      "tether: usage: --prefix 'a b' is no subject prefix: use dot-separated words of letters, digits, '_' and '-' " +
        '(see: tether var get --help)\n',
    );
    let stderr = '';
    const unset = await runCli(['var', 'get', 'x'], {
      out: () => {},
      err: (line) => void (stderr += line),
      env: { TETHER_SESSION: '' },
    });
    expect([unset, stderr]).toEqual([
      2,
      'tether: usage: no session: give --session <id> (or set TETHER_SESSION) (see: tether var get --help)',
    ]);
    // The id `session delete` acts on is its argument, checked as an id is anywhere (exit 1), not an option.
    const deleted = await cli('session', 'delete', 'a.b', ...nowhere);
    expect([deleted.code, deleted.stderr]).toEqual([
      1,
      "tether: validation_failed: invalid session id 'a.b': must hold only ASCII letters (A-Z, a-z), digits, _ or -, 1 to 128 characters\n",
    ]);
  });

  it('refuses a bad name, id, definition or writer as the node would (exit 1) before connecting', async () => {
    // Nothing listens at this address: an unreachable NATS (exit 3) must not hide the mistake in the command.
    const nowhere = ['-s', 'a', '--nats', 'nats://127.0.0.1:1'];
    const badName = "invalid variable name 'a.b'";
    const badModule = "invalid module id 'q.x'";
    const cases: [string[], string][] = [
      [['var', 'get', 'a.b'], badName],
      [['var', 'set', 'a.b', '1'], badName],
      [['var', 'define', 'a.b', 'float', '1'], badName],
      [['var', 'delete', 'a.b'], badName],
      [['var', 'history', 'a b'], "invalid variable name 'a b'"],
      [['var', 'lock', 'a.b', '--owner', 'alice'], badName],
      [['var', 'unlock', 'x', '--owner', ''], "a lock owner for 'x' must be a non-empty string"],
      [['var', 'define', 'x', 'decimal', '1'], "x: unknown variable type 'decimal'"],
      [['var', 'define', 'x', 'float', '5', '--constraints', '{"max":1}'], 'x: value 5 is above maximum 1'],
      [['var', 'set', 'x', '1', '--updated-by', ''], "setVariable option 'updatedBy' must be a non-empty string"],
      [['var', 'delete', 'x', '--updated-by', ''], "deleteVariable option 'updatedBy' must be a non-empty string"],
      [['var', 'list', '*'.repeat(1025)], 'invalid glob pattern: longer than 1024 characters'],
      [['var', 'watch', '*'.repeat(1025)], 'invalid glob pattern: longer than 1024 characters'],
      [['module', 'create', 'q.x', '--type', 'Predict', '--signature', 'q:string -> a:string'], badModule],
      [['module', 'call', 'q.x', '--input', 'q=why'], badModule],
      [['module', 'stop', 'q.x'], badModule],
    ];
    for (const [args, message] of cases) {
      const run = await cli(...args, ...nowhere);
      expect([run.code, run.stderr.split('\n').length], args.join(' ')).toEqual([1, 2]);
      expect(run.stderr, args.join(' ')).toContain(`tether: validation_failed: ${message}`);
    }
    // A usage error comes before a refusal, as everywhere: the command line is read before it is judged.
    for (const args of [
      ['var', 'set', 'a.b', '1e400'],
      ['var', 'define', 'a.b', 'float', '1e400'],
      ['module', 'call', 'q.x', '--input', 'q=why', '--timeout', '0'],
    ])
      expect((await cli(...args, ...nowhere)).stderr, args.join(' ')).toMatch(/^tether: usage: /);
    // A good name still goes on to connect, and meets the unreachable NATS.
    expect((await cli('var', 'get', 'x', ...nowhere)).code).toBe(3);
  });

  it('reads the options a command shares with the others before it judges its arguments: usage (exit 2) first', async () => {
    // Each holds a bad name or id (a refusal, exit 1) and a bad shared option or variable (a usage error, exit 2).
    const unreachable = ['--nats', 'nats://127.0.0.1:1'];
    const cases: [string[], Record<string, string>, string][] = [
      [['var', 'get', 'a.b', '-s', 'a', '--timeout', '0', ...unreachable], {}, '--timeout must be'],
      [['var', 'set', 'a.b', '1', '-s', 'a.b', ...unreachable], {}, "--session 'a.b' is no session id"],
      [['var', 'define', 'a.b', 'float', '1', ...unreachable], {}, 'no session: give --session'],
      [['var', 'delete', 'a.b', '-s', 'a', '--prefix', 'a b', ...unreachable], {}, "--prefix 'a b' is no subject"],
      [['var', 'history', 'a.b', '-s', 'a', ...unreachable], { TETHER_MAX_RECONNECTS: 'x' }, 'TETHER_MAX_RECONNECTS'],
      [['var', 'list', '*'.repeat(1025), '-s', 'a', '--nats', 'http://x'], {}, '--nats holds a http:// URL'],
      [['var', 'watch', '*'.repeat(1025), '-s', 'a', ...unreachable], { TETHER_PING_INTERVAL_MS: '0' }, 'TETHER_PING'],
      [['var', 'lock', 'a.b', '--owner', 'x', ...unreachable], { TETHER_SESSION: 'a b' }, "TETHER_SESSION 'a b'"],
      [['var', 'unlock', 'x', '--owner', '', '-s', 'a', '--nats', ','], {}, '--nats names no server'],
      [['module', 'create', 'q.x', '--type', 'Predict', '--signature', 'q:string -> a:string'], {}, 'no session'],
      [['module', 'call', 'q.x', '--input', 'q=why', '-s', 'a.b', ...unreachable], {}, "--session 'a.b' is no"],
      [['module', 'stop', 'q.x', '-s', 'a', ...unreachable], { TETHER_RECONNECT_WAIT_MS: '-1' }, 'TETHER_RECONNECT'],
      [['session', 'delete', 'a.b', '--timeout', 'soon', ...unreachable], {}, '--timeout must be'],
    ];
    for (const [args, env, line] of cases) {
      const run = await runCliInProcess(args, env);
      expect([run.code, run.stderr.split('\n').length], args.join(' ')).toEqual([2, 2]);
      expect(run.stderr, args.join(' ')).toContain(`tether: usage: ${line}`);
    }
  });
});
