import { spawn } from 'node:child_process';
import { open } from 'node:fs/promises';
import { describe, expect, it, onTestFinished } from 'vitest';
import { COMMANDS, processIo, runCli } from '../src/cli/cli.js';
import { parseCommand } from '../src/cli/command.js';
import {
  assertNumbersReadAsWritten,
  looksLikeBrokenJson,
  needsVariableType,
  parseAssignments,
  parseValue,
  valueText,
  withTypedValue,
} from '../src/cli/values.js';
import { UsageError, errorLine, exitCodeOf } from '../src/cli/cli-errors.js';
import { DEFAULT_NATS_URL, natsPrefix, natsServers, natsTarget, reconnectPolicy } from '../src/cli/connection.js';
import { NatsConnectionError, ValidationError, VariableNotFoundError } from '../src/errors.js';
import { parseBuckets } from '../src/cli/serve-command.js';
import { transitionLine } from '../src/cli/follow-commands.js';
import { settlesWithin } from '../src/cli/until-signal.js';
import { packageVersion } from '../src/package-version.js';
import { startSilentServer } from './support/silent-server.js';
import { startCli } from './support/cli-process.js';

/** Runs the CLI in this process with captured output; nothing here reaches NATS. */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    out: (line) => void (stdout += `${line}\n`),
    err: (line) => void (stderr += `${line}\n`),
    env: {},
  });
  return { code, stdout, stderr };
}

const command = (path: string): (typeof COMMANDS)[number] => {
  const found = COMMANDS.find((spec) => spec.path.join(' ') === path);
  if (!found) throw new Error(`no command ${path}`);
  return found;
};

describe('cli', () => {
  it('prints the help of every command from the declaration it parses with', async () => {
    for (const spec of COMMANDS) {
      const { code, stdout } = await cli(...spec.path, '--help');
      expect(code).toBe(0);
      expect(stdout).toContain(`Usage: tether ${spec.path.join(' ')}`);
      for (const name of Object.keys(spec.options))
        expect(stdout, `${spec.path.join(' ')} --${name}`).toContain(`--${name}`);
      for (const arg of spec.args) expect(stdout).toContain(arg.name);
    }
    const root = await cli('--help');
    expect(root.code).toBe(0);
    for (const spec of COMMANDS) expect(root.stdout).toContain(spec.path.join(' '));
  });

  it("says module call waits for the execution as long as the node lets it run, not a request's 5 s", async () => {
    const { stdout } = await cli('module', 'call', '--help');
    expect(stdout).toMatch(/--timeout <ms> +how long the whole call waits.*then the node's execution timeout, 120000/);
    expect((await cli('var', 'get', '--help')).stdout).toMatch(
      /--timeout <ms> +how long a request waits.*default 5000/,
    );
  });

  it('exits 2 with one line naming the command for a usage error', async () => {
    const cases: [string[], string][] = [
      [[], 'tether: usage: missing <command> (see: tether --help)'],
      [['help', 'nope'], "tether: usage: unknown command 'nope' (see: tether --help)"],
      [['help', 'var', 'set', 'x'], "tether: usage: unexpected argument 'x' (see: tether var set --help)"],
      [['nope'], "tether: usage: unknown command 'nope' (see: tether --help)"],
      [['var', 'nope'], "tether: usage: unknown command 'var nope' (see: tether var --help)"],
      [
        ['--prefix', 'x', 'var', 'get', 'a'],
        "tether: usage: unknown command '--prefix': options go after the command, as in 'tether <command> --prefix ...' (see: tether --help)",
      ],
      [
        ['var', 'sett', 't', '1'],
        "tether: usage: unknown command 'var sett': did you mean 'var set'? (see: tether var --help)",
      ],
      [['sesion', 'list'], "tether: usage: unknown command 'sesion': did you mean 'session'? (see: tether --help)"],
      [
        ['var'],
        "tether: usage: 'var' needs a command: define, get, set, delete, list, history, watch, lock, unlock (see: tether var --help)",
      ],
      [['module'], "tether: usage: 'module' needs a command: create, call, list, stop (see: tether module --help)"],
      [
        ['var', 'get', 't', '--bogus', '-s', 'a'],
        "tether: usage: Unknown option '--bogus' (see: tether var get --help)",
      ],
      // A typo of one of the command's options, or the start of one, is told which one it may be.
      [
        ['var', 'set', 't', '1', '-s', 'a', '--update-by', 'me'],
        "tether: usage: Unknown option '--update-by': did you mean '--updated-by'? (see: tether var set --help)",
      ],
      [
        ['var', 'set', 't', '1', '-s', 'a', '--txet'],
        "tether: usage: Unknown option '--txet': did you mean '--text'? (see: tether var set --help)",
      ],
      // A value starting with a dash reads as an option: a command that takes arguments says how to give one.
      [
        ['var', 'set', 'name', '-x', '-s', 'a'],
        "tether: usage: Unknown option '-x': an argument starting with a dash goes after '--', as in '-- -x' (see: tether var set --help)",
      ],
      [
        ['var', 'set', 'name', '-abc', '-s', 'a'],
        "tether: usage: Unknown option '-abc': an argument starting with a dash goes after '--', as in '-- -abc' (see: tether var set --help)",
      ],
      // Given the arguments it takes besides, the word was meant as an option, which this command does not have.
      [
        ['session', 'delete', '-s', 'chat-1'],
        "tether: usage: Unknown option '-s': tether session delete has no such option (its arguments: <id>) (see: tether session delete --help)",
      ],
      [
        ['session', 'delete', '-s'],
        "tether: usage: Unknown option '-s': an argument starting with a dash goes after '--', as in '-- -s' (see: tether session delete --help)",
      ],
      // No argument of var get can start with a dash: no hint.
      [['var', 'get', '-x'], "tether: usage: Unknown option '-x' (see: tether var get --help)"],
      [
        ['module', 'call', 'qa', '-s', 'a', '--inptus', '{}'],
        "tether: usage: Unknown option '--inptus': did you mean '--inputs'? (see: tether module call --help)",
      ],
      [
        ['serve', '--buckets', 'vars,a.b'],
        "tether: usage: --buckets names a bucket 'a.b': use 1 to 252 letters, digits, '_' and '-' (see: tether serve --help)",
      ],
      [
        ['serve', '--queue', 'a b'],
        "tether: usage: --queue 'a b' is no queue group name: use 1 to 252 letters, digits, '_' and '-' (see: tether serve --help)",
      ],
      [['var', 'get'], 'tether: usage: missing <name> (see: tether var get --help)'],
      [['session', 'delete'], 'tether: usage: missing <id> (see: tether session delete --help)'],
      [['session'], "tether: usage: 'session' needs a command: delete, list (see: tether session --help)"],
      [['session', 'nope'], "tether: usage: unknown command 'session nope' (see: tether session --help)"],
      [['session', 'delete', 'a', 'b'], "tether: usage: unexpected argument 'b' (see: tether session delete --help)"],
      [
        ['var', 'get', 't'],
        'tether: usage: no session: give --session <id> (or set TETHER_SESSION) (see: tether var get --help)',
      ],
      [['var', 'get', 't', 'u', '-s', 'a'], "tether: usage: unexpected argument 'u' (see: tether var get --help)"],
      // The last would win: a write to another session, or checked against another version.
      [
        ['var', 'set', 'name', 'hi', '-s', 'm1', '--session', 's1'],
        "tether: usage: option '--session' given more than once (see: tether var set --help)",
      ],
      [
        ['var', 'set', 't', '1', '-s', 'a', '--expected-version', '1', '--expected-version=2'],
        "tether: usage: option '--expected-version' given more than once (see: tether var set --help)",
      ],
      [
        ['var', 'define', 't', 'float', '1', '-s', 'a', '--constraints', '{min'],
        'tether: usage: --constraints is not valid JSON',
      ],
      // Checked before connecting (nothing listens here): the lock's owner is the point of the command.
      [['var', 'lock', 't', '-s', 'a'], 'tether: usage: missing --owner <who> (see: tether var lock --help)'],
      [['var', 'unlock', 't', '-s', 'a'], 'tether: usage: missing --owner <who> (see: tether var unlock --help)'],
      [
        ['var', 'set', 't', '1', '-s', 'a', '--expected-version', 'two'],
        "tether: usage: --expected-version must be a whole number from 1 to 9007199254740991, got 'two'",
      ],
      [
        ['module', 'create', 'qa', '-s', 'a', '--signature', 'q:string -> a:string'],
        'tether: usage: give exactly one of --type or --type-variable',
      ],
      [
        ['module', 'create', 'qa', '-s', 'a', '--type', 'Predict'],
        'tether: usage: missing --signature (or signature in --spec)',
      ],
      [
        ['module', 'create', 'qa', '-s', 'a', '--spec', '{"type":"Predict","signature":"q -> a","bindings":"t"}'],
        'tether: usage: --spec bindings must be an object of attribute: variable',
      ],
      [
        ['module', 'create', 'qa', '-s', 'a', '--spec', '{"type":"ReAct","signature":"q -> a","tools":"search"}'],
        'tether: usage: --spec tools must be a list of tool names',
      ],
      [
        ['module', 'call', 'qa', '-s', 'a', '--input', 'novalue'],
        "tether: usage: --input takes key=value, got 'novalue'",
      ],
      // The last one would win unseen.
      [
        ['module', 'call', 'qa', '-s', 'a', '--input', 'question=x', '--input', 'question=y'],
        "tether: usage: --input gives 'question' twice",
      ],
      [
        [
          'module',
          'create',
          'qa',
          '-s',
          'a',
          '--type',
          'Predict',
          '--signature',
          'q -> a',
          '--bind',
          'temperature=a',
          '--bind',
          'temperature=b',
        ],
        "tether: usage: --bind gives 'temperature' twice",
      ],
      [['module', 'call', 'qa', '-s', 'a'], 'tether: usage: no inputs: give --input <field=value> or --inputs <json>'],
      [['serve', '--buckets', 'v'], "tether: usage: --buckets takes vars,sessions or vars,sessions,modules, got 'v'"],
      [['serve', '--buckets', 'v,s,m,x'], 'tether: usage: --buckets takes vars,sessions or vars,sessions,modules'],
      [['serve', '--buckets', 'v,,m'], 'tether: usage: --buckets takes vars,sessions or vars,sessions,modules'],
      [
        ['serve', '--buckets', 'shared,shared,shared'],
        "tether: usage: --buckets uses bucket 'shared' for both vars and sessions: each needs a bucket of its own",
      ],
      // Two names leave the modules bucket at its default, which the second name takes too.
      [
        ['serve', '--buckets', 'v,tether_modules'],
        "tether: usage: --buckets uses bucket 'tether_modules' for both sessions and modules",
      ],
      [['serve', '--drain-timeout', '0'], 'tether: usage: --drain-timeout must be a whole number from 1 to 2147483647'],
      // Past what a Node timer can wait: refused, rather than a TimeoutOverflowWarning and a timeout at once.
      [
        ['var', 'get', 't', '-s', 'a', '--timeout', '3000000000'],
        "tether: usage: --timeout must be a whole number from 1 to 2147483647, got '3000000000' (see: tether var get --help)",
      ],
      [['module', 'call', 'qa', '-s', 'a', '--input', 'q=x', '--timeout', '2147483648'], 'tether: usage: --timeout'],
      [['serve', '--drain-timeout', '2147483648'], 'tether: usage: --drain-timeout must be a whole number from 1 to'],
      // 0 is allowed (fail at once); below, past a timer's reach or not a number, nothing starts.
      [['serve', '--unavailable-retry', '-1'], 'tether: usage: --unavailable-retry must be a whole number from 0 to'],
      [
        ['serve', '--unavailable-retry', '2147483648'],
        "tether: usage: --unavailable-retry must be a whole number from 0 to 2147483647, got '2147483648' (see: tether serve --help)",
      ],
      [['serve', '--unavailable-retry', '15s'], 'tether: usage: --unavailable-retry must be a whole number from 0 to'],
      // Periods, which sweeps check: no timer's top, only the safe-integer one.
      [
        ['serve', '--session-ttl', '0'],
        "tether: usage: --session-ttl must be a whole number from 1 to 9007199254740991, got '0'",
      ],
      [
        ['serve', '--session-ttl', '1h'],
        "tether: usage: --session-ttl must be a whole number from 1 to 9007199254740991, got '1h'",
      ],
      [
        ['serve', '--hibernate-after', '-5'],
        'tether: usage: --hibernate-after must be a whole number from 1 to 9007199254740991',
      ],
      // Found in review: past 2^53-1 the refusal said "a whole number of at least 1", which the value is.
      [
        ['serve', '--session-ttl', '9007199254740993'],
        "tether: usage: --session-ttl must be a whole number from 1 to 9007199254740991, got '9007199254740993'",
      ],
      [
        ['var', 'set', 't', '1', '-s', 'a', '--expected-version', '9007199254740993'],
        "tether: usage: --expected-version must be a whole number from 1 to 9007199254740991, got '9007199254740993'",
      ],
      [
        ['serve', '--history-depth', '65'],
        "tether: usage: --history-depth must be a whole number from 1 to 64, got '65'",
      ],
      [['serve', '--history-depth', '0'], 'tether: usage: --history-depth must be a whole number from 1 to 64'],
      [
        ['serve', '--max-record-bytes', '0'],
        'tether: usage: --max-record-bytes must be a whole number from 1 to 9007199254740991',
      ],
      // Not a server that is down (exit 3): a URL that is no URL is the command line's fault.
      [
        ['var', 'get', 't', '-s', 'a', '--nats', 'not a url'],
        "tether: usage: --nats holds no valid URL: 'not a url' (see: tether var get --help)",
      ],
      [
        ['events', '--nats', 'nats://127.0.0.1:4222,not a url'],
        "tether: usage: --nats holds no valid URL: 'not a url'",
      ],
      [['serve', '--nats', 'nats://a b'], "tether: usage: --nats holds no valid URL: 'nats://a b'"],
      // nats.js would read its host and port, and speak NATS to it.
      [
        ['var', 'get', 't', '-s', 'a', '--nats', 'http://me:pw@127.0.0.1:4222'],
        "tether: usage: --nats holds a http:// URL, 'http://127.0.0.1:4222': use nats://, or tls:// to require TLS " +
          '(see: tether var get --help)',
      ],
      // Node's advice for a value starting with a dash is the fix, so it stays, with the value given.
      [
        ['var', 'set', 't', '1', '-s', 'a', '--reason', '-x'],
        "tether: usage: Option '--reason' argument is ambiguous: to give it a value starting with a dash, write " +
          "'--reason=-x' (see: tether var set --help)",
      ],
    ];
    for (const [args, line] of cases) {
      const { code, stdout, stderr } = await cli(...args);
      expect(code, args.join(' ')).toBe(2);
      expect(stdout).toBe('');
      expect(stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(stderr.trim().startsWith(line), `${stderr} vs ${line}`).toBe(true);
    }
  });

  it('prints the help of a group or a command after `help`, as after --help', async () => {
    for (const words of [['var'], ['module'], ['session'], ['var', 'set'], ['session', 'delete'], ['serve']]) {
      const asked = await cli('help', ...words);
      const flag = await cli(...words, '--help');
      expect(asked.code).toBe(0);
      expect(asked.stdout, words.join(' ')).toBe(flag.stdout);
    }
    expect((await cli('help', 'var')).stdout).toMatch(/^Usage: tether var <command>/);
    expect((await cli('help', 'session')).stdout).toMatch(/^Usage: tether session <command>[^]*session delete <id>/);
    expect((await cli('help')).stdout).toBe((await cli('--help')).stdout);
    // Help on help is the general help, exit 0, not an unknown command '-h'.
    for (const flag of ['-h', '--help']) expect(await cli('help', flag)).toEqual(await cli('--help'));
  });

  it('takes a URL nats.js reads as a server: with or without a scheme, several, IPv6', () => {
    const io = (env: Record<string, string>) => ({ out: () => {}, err: () => {}, env });
    expect(natsServers({ nats: 'nats://127.0.0.1:4222, demo.nats.io,tls://[::1]:4222' }, io({}))).toEqual([
      'nats://127.0.0.1:4222',
      'demo.nats.io',
      'tls://[::1]:4222',
    ]);
    expect(natsServers({}, io({ NATS_URL: '127.0.0.1:4222' }))).toEqual(['127.0.0.1:4222']);
    expect(() => natsServers({}, io({ NATS_URL: 'nats://' }))).toThrow(/NATS_URL holds no valid URL: 'nats:\/\/'/);
    // An empty variable is unset, as TETHER_SESSION's is: the default server, the default prefix.
    expect(natsServers({}, io({ NATS_URL: '' }))).toEqual([DEFAULT_NATS_URL]);
    expect(natsPrefix({}, io({ TETHER_PREFIX: '' }))).toBeUndefined();
  });

  it('gives up connecting within its timeout on a server that takes the connection and never answers (exit 3)', async () => {
    const silent = await startSilentServer();
    try {
      // 5 s, the default: not nats.js's 20 s (the test's own timeout), for one-shot and long-running commands alike.
      const [get, events, serve] = await Promise.all([
        cli('var', 'get', 'x', '-s', 'a', '--nats', silent.url),
        cli('events', '--nats', silent.url),
        cli('serve', '--nats', silent.url),
      ]);
      expect([get.code, get.stderr]).toEqual([
        3,
        `tether: nats_unreachable: cannot reach NATS at ${silent.url} (TIMEOUT)\n`,
      ]);
      expect([events.code, events.stderr]).toEqual([
        3,
        `tether: nats_unreachable: cannot reach NATS at ${silent.url} (TIMEOUT)\n`,
      ]);
      expect(serve.code).toBe(3);
      expect(serve.stderr).toMatch(
        new RegExp(`^tether: nats_unreachable: cannot start a node on NATS at ${silent.url}: .*TIMEOUT`),
      );
      expect(serve.stderr.split('\n')).toHaveLength(2);
    } finally {
      await silent.close();
    }
  }, 15_000);

  it('ends once its error line is out after a connect that timed out', async () => {
    const silent = await startSilentServer();
    onTestFinished(() => silent.close());
    const get = startCli(['var', 'get', 'x', '-s', 'a', '--nats', silent.url]);
    await get.until('stderr', /TIMEOUT/);
    const saidAt = Date.now();
    expect((await get.exited).code).toBe(3);
    // The process did not wait for the connection it made (nor for the 2 s guard in main.ts).
    expect(silent.connections()).toBe(1);
    expect(Date.now() - saidAt).toBeLessThan(1_000);
  }, 15_000);

  it('takes NATS credentials from NATS_USER/NATS_PASSWORD or NATS_TOKEN, else from the URL, which it strips', () => {
    const io = (env: Record<string, string>) => ({ out: () => {}, err: () => {}, env });
    const url = { nats: 'nats://al%40x:s3:cr@127.0.0.1:4222,nats://127.0.0.1:4223' };
    expect(natsTarget(url, io({}))).toEqual({
      servers: ['nats://127.0.0.1:4222', 'nats://127.0.0.1:4223'],
      credentials: { user: 'al@x', pass: 's3:cr' },
    });
    expect(natsTarget({ nats: 'tok@127.0.0.1:4222' }, io({})).credentials).toEqual({ token: 'tok' });
    expect(natsTarget(url, io({ NATS_USER: 'u', NATS_PASSWORD: 'p' })).credentials).toEqual({ user: 'u', pass: 'p' });
    expect(natsTarget({ nats: 'h:4222' }, io({ NATS_TOKEN: 't' })).credentials).toEqual({ token: 't' });
    expect(natsTarget({ nats: 'old@h:4222' }, io({ NATS_TOKEN: 't' })).credentials).toEqual({ token: 't' });
    expect(natsTarget({}, io({})).credentials).toEqual({});
    // A password may hold an '@' (URL parsers split at the last one); each variable wins over its own part only.
    expect(natsTarget({ nats: 'nats://al:p@ss@127.0.0.1:4222' }, io({}))).toEqual({
      servers: ['nats://127.0.0.1:4222'],
      credentials: { user: 'al', pass: 'p@ss' },
    });
    expect(natsTarget({ nats: 'al@h:4222' }, io({ NATS_PASSWORD: 'pw' })).credentials).toEqual({
      user: 'al',
      pass: 'pw',
    });
    expect(natsTarget({ nats: 'al:pw@h:4222' }, io({ NATS_USER: 'bo' })).credentials).toEqual({
      user: 'bo',
      pass: 'pw',
    });
    expect(() => natsTarget({ nats: 'h:4222' }, io({ NATS_PASSWORD: 'pw' }))).toThrow(/NATS_PASSWORD needs a user/);
    // A URL refused as malformed is quoted without anything up to its last '@'.
    expect(() => natsTarget({ nats: 'nats://al:p/ss@h:notaport' }, io({}))).toThrow(
      /--nats holds no valid URL: 'nats:\/\/h:notaport'$/,
    );
  });

  it('fails with one line (exit 1) when stdout cannot be written, as on a full disk', async () => {
    const full = await open('/dev/full', 'w');
    try {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', '--help'], {
        cwd: new URL('..', import.meta.url).pathname,
        stdio: ['ignore', full.fd, 'pipe'],
      });
      let stderr = '';
      child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      const code = await new Promise((resolve) => child.once('close', resolve));
      expect([code, stderr]).toEqual([
        1,
        'tether: output_failed: cannot write to stdout: ENOSPC: no space left on device, write\n',
      ]);
    } finally {
      await full.close();
    }
  });

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
    ];
    for (const [args, env, line] of cases) {
      let stderr = '';
      const code = await runCli(args, { out: () => {}, err: (text) => void (stderr += `${text}\n`), env });
      expect([code, stderr.split('\n').length], args.join(' ')).toEqual([2, 2]);
      expect(stderr, args.join(' ')).toMatch(new RegExp(`^tether: usage: ${line.replace(/[.]/g, '\\.')}`));
    }
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
      "tether: validation_failed: invalid session id 'a.b': must hold only letters, digits, _ or -, 1 to 128 characters\n",
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

  it("reads a value given as '-' from stdin less one trailing newline, and refuses it where there is no stdin", async () => {
    const piped = (input: string | Uint8Array) => ({
      out: () => {},
      err: () => {},
      env: {},
      readInput: async () => (typeof input === 'string' ? new TextEncoder().encode(input) : input),
    });
    const path = ['var', 'set'];
    expect(await valueText('-', piped('0.7\n'), path)).toBe('0.7');
    expect(await valueText('-', piped('two lines\r\n\r\n'), path)).toBe('two lines\r\n');
    expect(await valueText('-', piped(''), path)).toBe('');
    // A byte order mark (Windows editors write one) is no part of the value; bytes that are not UTF-8 are refused.
    expect(await valueText('-', piped('\uFEFF{"q":"why?"}'), path)).toBe('{"q":"why?"}');
    await expect(valueText('-', piped(new Uint8Array([0x30, 0xff, 0x0a])), path)).rejects.toThrow(
      "the value '-' is read from stdin, and stdin is not UTF-8 text",
    );
    // Only a lone dash reads stdin.
    expect(await valueText('-5', piped('7'), path)).toBe('-5');
    expect(await valueText('"-"', piped('7'), path)).toBe('"-"');
    // A terminal on stdin is no input: a read would wait, silent, for Ctrl-D.
    const stdin = process.stdin as { isTTY?: boolean | undefined };
    const wasTty = stdin.isTTY;
    stdin.isTTY = true;
    try {
      expect(processIo().readInput).toBeUndefined();
    } finally {
      stdin.isTTY = wasTty;
    }
    const run = await cli('var', 'set', 'x', '-', '-s', 'a', '--nats', 'nats://127.0.0.1:1');
    expect([run.code, run.stderr]).toEqual([
      2,
      "tether: usage: the value '-' is read from stdin: pipe or redirect it there (< file) (see: tether var set --help)\n",
    ]);
  });

  it('exits 3 for a NATS connection lost under a request, as for one that cannot be reached', () => {
    const lost = new NatsConnectionError(
      'disconnected',
      '127.0.0.1:4222',
      "request to 'tether.v1.session.s.set' got no reply",
    );
    expect(exitCodeOf(lost)).toBe(3);
    expect(errorLine(lost)).toMatch(/^tether: nats_connection: /);
  });

  it('reads serve --buckets as vars,sessions (modules stays <prefix>_modules) or vars,sessions,modules', async () => {
    const serve = command('serve');
    const buckets = (...argv: string[]) => {
      const parsed = parseCommand(serve, argv);
      return parseBuckets(String(parsed.values.buckets), serve.path);
    };
    // Two names: no modules bucket is given, so the node keeps its documented default.
    expect(buckets('--buckets', 'v, s')).toEqual({ variablesBucket: 'v', sessionsBucket: 's' });
    expect(buckets('--buckets', 'v,s,m')).toEqual({ variablesBucket: 'v', sessionsBucket: 's', modulesBucket: 'm' });
    expect((await cli('serve', '--help')).stdout).toMatch(
      /with two names the\s+modules bucket is still <prefix>_modules/,
    );
    // Two names and the default modules bucket of the prefix are one bucket.
    expect(() => parseBuckets('v,staging_modules', serve.path, 'staging')).toThrow(
      "--buckets uses bucket 'staging_modules' for both sessions and modules: each needs a bucket of its own",
    );
  });

  it('reads key=value pairs as own fields, whatever the key, the value up to the end', () => {
    const fields = parseAssignments(['__proto__=x', 'q=a=b'], '--input', ['module', 'call']);
    expect(Object.keys(fields)).toEqual(['__proto__', 'q']);
    expect(fields).toEqual(JSON.parse('{"__proto__":"x","q":"a=b"}'));
  });

  it('retries a lost connection for ever unless TETHER_MAX_RECONNECTS bounds it', () => {
    const io = (env: Record<string, string>) => ({ out: () => {}, err: () => {}, env });
    expect(reconnectPolicy(io({}), ['events'])).toEqual({});
    // An empty variable is unset, as NATS_URL's is.
    expect(reconnectPolicy(io({ TETHER_MAX_RECONNECTS: '', TETHER_RECONNECT_WAIT_MS: '' }), ['events'])).toEqual({});
    expect(reconnectPolicy(io({ TETHER_MAX_RECONNECTS: '-1' }), ['events'])).toEqual({});
    expect(reconnectPolicy(io({ TETHER_MAX_RECONNECTS: '3', TETHER_RECONNECT_WAIT_MS: '250' }), ['events'])).toEqual({
      maxAttempts: 3,
      waitMs: 250,
    });
    expect(() => reconnectPolicy(io({ TETHER_RECONNECT_WAIT_MS: 'soon' }), ['events'])).toThrow(
      /TETHER_RECONNECT_WAIT_MS must be a whole number/,
    );
    // Found in review: -2 was refused as "must be a whole number", which it is; only -1 or 0 and more are taken.
    expect(() => reconnectPolicy(io({ TETHER_MAX_RECONNECTS: '-2' }), ['events'])).toThrow(
      "TETHER_MAX_RECONNECTS must be -1 (for ever) or a whole number from 0 to 9007199254740991, got '-2'",
    );
  });

  it('bounds a stop by the drain timeout: a stop that hangs is let go, one that ends is awaited', async () => {
    expect(await settlesWithin(new Promise(() => {}), 20)).toBe(false);
    expect(await settlesWithin(Promise.resolve(), 1000)).toBe(true);
  });

  it('reads a number written .5 or -.5 as that number, unless the variable holds text', () => {
    const parse = (text: string, type: string) => parseValue(text, type, ['var', 'define']);
    expect([parse('-.5', 'float'), parse('.5', 'float'), parse('.25e1', 'json'), parse(' -.5', 'integer')]).toEqual([
      -0.5, 0.5, 2.5, -0.5,
    ]);
    expect([parse('.5', 'string'), parse('-.5', 'choice'), parse('.x', 'float')]).toEqual(['.5', '-.5', '.x']);
    // `var set` knows no type until it asks: it asks for exactly these values and for broken JSON.
    expect(['.5', '-.5', '{"a":', '0.5', 'terse', '"x"'].map(needsVariableType)).toEqual([
      true,
      true,
      true,
      false,
      false,
      false,
    ]);
    expect(parseCommand(command('var define'), ['neg', 'float', '-.5', '-s', 'a']).args.value).toBe('-.5');
  });

  it('names a refused value as typed when its JSON form shows it otherwise', () => {
    const refusal = new ValidationError('ver: must be a string, got 2', {
      variable: 'ver',
      details: { constraint: 'type' },
    });
    const named = withTypedValue(refusal, '2.0', 2) as ValidationError;
    expect(named).toBeInstanceOf(ValidationError);
    expect(named.message).toBe(
      `ver: must be a string, got 2 (typed '2.0', read as JSON; to store it as text, quote it: '"2.0"')`,
    );
    expect([named.variable, named.details, named.cause]).toEqual(['ver', refusal.details, refusal]);
    const range = new ValidationError('t: value 2.5 is above maximum 2', { details: { constraint: 'max' } });
    expect((withTypedValue(range, '2.50', 2.5) as Error).message).toBe(
      "t: value 2.5 is above maximum 2 (typed '2.50', read as JSON)",
    );
    // Refused as not a string, a value shown as typed still gets the hint: `123` is text to whoever typed it.
    const number = new ValidationError('s: must be a string, got 123', {
      variable: 's',
      details: { constraint: 'type' },
    });
    expect((withTypedValue(number, '123', 123) as Error).message).toBe(
      `s: must be a string, got 123 (typed '123', read as JSON; to store it as text, quote it: '"123"')`,
    );
    expect((withTypedValue(number, 'true', true) as Error).message).toMatch(/quote it: '"true"'\)$/);
    // Text that quoting would change (a `"` or `\` is read as JSON escapes, a `'` ends the shell's quotes): --text.
    const object = new ValidationError('s: must be a string, got an object', { details: { constraint: 'type' } });
    for (const typed of ['{"a":1}', '["a\\\\b"]', `{"it's":1}`])
      expect((withTypedValue(object, typed, JSON.parse(typed)) as Error).message).toBe(
        `s: must be a string, got an object (typed '${typed}', read as JSON; to store it as text, give --text)`,
      );
    // A value read from stdin, or too long to repeat (a file), is not repeated: the line stays one short line.
    const document = JSON.stringify({ text: 'x'.repeat(200) });
    for (const piped of [true, false])
      expect((withTypedValue(object, document, JSON.parse(document), piped) as Error).message).toBe(
        `s: must be a string, got an object (read ${piped ? 'from stdin ' : ''}as JSON; to store it as text, give --text)`,
      );
    expect((withTypedValue(range, '2.50\n', 2.5, true) as Error).message).toBe(
      't: value 2.5 is above maximum 2 (read from stdin as JSON)',
    );
    // Shown as typed already, or not a refusal of the value: left as it is.
    expect(withTypedValue(range, '2.5', 2.5)).toBe(range);
    const missing = new VariableNotFoundError('s', 'ver');
    expect(withTypedValue(missing, '2.0', 2)).toBe(missing);
  });

  it('takes negative numbers as values, positional or after an option', () => {
    expect(parseCommand(command('var set'), ['t', '-1', '-s', 'a']).args).toEqual({ name: 't', value: '-1' });
    expect(parseCommand(command('var set'), ['-s', 'a', 't', '-0.5']).args).toEqual({ name: 't', value: '-0.5' });
    // A float's -Infinity, written as Infinity is; and `-`, which reads stdin.
    expect(parseCommand(command('var set'), ['t', '-Infinity', '-s', 'a']).args).toEqual({
      name: 't',
      value: '-Infinity',
    });
    expect(parseCommand(command('var set'), ['t', '-', '-s', 'a']).args).toEqual({ name: 't', value: '-' });
    expect(() => parseCommand(command('var set'), ['t', '-Infinityx', '-s', 'a'])).toThrow(UsageError);
    expect(
      parseCommand(command('var define'), ['n', 'integer', '-3', '--constraints', '{"min":-5}']).values.constraints,
    ).toBe('{"min":-5}');
    expect(parseCommand(command('var set'), ['t', '1', '--expected-version', '-2']).values['expected-version']).toBe(
      '-2',
    );
    expect(
      parseCommand(command('module create'), ['qa', '--bind', 'temperature=t', '--bind', 'maxTokens=m']).values.bind,
    ).toEqual(['temperature=t', 'maxTokens=m']);
  });

  it('reads a value as JSON when it parses and as the text otherwise', () => {
    const parse = (text: string, type = 'json') => parseValue(text, type, ['var', 'set']);
    expect([parse('0.7'), parse('true'), parse('[1,2]'), parse('{"a":1}'), parse('null')]).toEqual([
      0.7,
      true,
      [1, 2],
      { a: 1 },
      null,
    ]);
    expect([parse('terse'), parse('hello world'), parse('"42"'), parse('{name} says hi', 'string')]).toEqual([
      'terse',
      'hello world',
      '42',
      '{name} says hi',
    ]);
  });

  it('refuses text that opens like JSON and does not parse, unless the variable holds text', () => {
    for (const type of ['json', 'list', 'tensor', 'embedding', 'integer']) {
      expect(() => parseValue('{"retries":4,}', type, ['var', 'set'])).toThrow(UsageError);
    }
    expect(() => parseValue(' [1, 2', 'list', ['var', 'set'])).toThrow(
      /the value for a list variable is not valid JSON/,
    );
    expect(() => parseValue('[1, 2', 'embedding', ['var', 'set'])).toThrow(
      /the value for an embedding variable is not valid JSON/,
    );
    for (const type of ['string', 'choice', 'module'])
      expect(parseValue('[draft', type, ['var', 'set'])).toBe('[draft');
    expect([looksLikeBrokenJson('{"a":1,}'), looksLikeBrokenJson('{"a":1}'), looksLikeBrokenJson('terse')]).toEqual([
      true,
      false,
      false,
    ]);
  });
});

describe('cli values and version', () => {
  it('refuses a number that overflows to Infinity (exit 2) before connecting; the text Infinity still stores it', async () => {
    const nowhere = ['-s', 'a', '--nats', 'nats://127.0.0.1:1'];
    const set = await cli('var', 'set', 'temperature', '1e400', ...nowhere);
    expect([set.code, set.stdout]).toEqual([2, '']);
    expect(set.stderr).toBe(
      "tether: usage: temperature: the number '1e400' is too large and would be read as Infinity; to store " +
        `Infinity, write Infinity, or quote it for text: '"1e400"' (see: tether var set --help)\n`,
    );
    const defined = await cli('var', 'define', 'low', 'float', '-1e400', ...nowhere);
    expect([defined.code, defined.stderr]).toEqual([
      2,
      "tether: usage: low: the number '-1e400' is too large and would be read as -Infinity; to store -Infinity, " +
        `write '"-Infinity"', or quote it for text: '"-1e400"' (see: tether var define --help)\n`,
    ]);
    // Only a number misread: a large finite number, the text Infinity (how a float is given it), a quoted number, a
    // zero written long, a float's digits past its precision, an integer past 2^53 that a double holds, pass.
    for (const text of [
      '1e308',
      'Infinity',
      '"-Infinity"',
      '"1e400"',
      'terse',
      '0.000e-500',
      '0.1000000000000000055511',
      '9007199254740994',
      '{"id":"12345678901234567890"}',
    ])
      expect(() => assertNumbersReadAsWritten(text, 't', ['var', 'set']), text).not.toThrow();
  });

  // Found by a review: strings were skipped by a regular expression, which overflowed its stack on megabytes.
  it('checks the numbers of a value of megabytes (stdin takes any length), strings of escapes too', () => {
    const long = JSON.stringify({ doc: 'x'.repeat(12_000_000), quotes: '"'.repeat(2_000_000), n: 1 });
    expect(() => assertNumbersReadAsWritten(long, 'doc', ['var', 'set'])).not.toThrow();
    const misread = JSON.stringify({ doc: 'x'.repeat(12_000_000) }).replace(/}$/, ',"n":1e-400}');
    expect(() => assertNumbersReadAsWritten(misread, 'doc', ['var', 'set'])).toThrow("the number '1e-400'");
  });

  // Found by a review: a number too small, or an integer past 2^53, was stored as another number (exit 0), and one too
  // large inside a list or object was left to the node.
  it('refuses any number of a value that a double reads as another (exit 2), inside a list or object too', async () => {
    const nowhere = ['-s', 'a', '--nats', 'nats://127.0.0.1:1'];
    const cases: [string, string, string][] = [
      ['f', '1e-400', "the number '1e-400' is too small and would be read as 0"],
      ['f', '-.5e-400', "the number '-.5e-400' is too small and would be read as 0"],
      [
        'cfg',
        '{"channel":12345678901234567890}',
        "the number '12345678901234567890' has more digits than a double holds and would be read as 12345678901234567000",
      ],
      ['ids', '[1, 1e400]', "the number '1e400' is too large and would be read as Infinity"],
    ];
    for (const [name, text, said] of cases) {
      const set = await cli('var', 'set', name, text, ...nowhere);
      expect([set.code, set.stdout], text).toEqual([2, '']);
      expect(set.stderr, text).toContain(`tether: usage: ${name}: ${said}; quote it to keep it as written: `);
    }
  });

  it('prints its version for --version and -V (exit 0)', async () => {
    for (const flag of ['--version', '-V'])
      expect(await cli(flag)).toEqual({ code: 0, stdout: `${packageVersion()}\n`, stderr: '' });
    expect(packageVersion()).toMatch(/^\d+\.\d+\.\d+/);
    const extra = await cli('--version', 'x');
    expect([extra.code, extra.stderr]).toEqual([2, "tether: usage: unexpected argument 'x' (see: tether --help)\n"]);
    expect((await cli('--help')).stdout).toMatch(/-V, --version +print Tether's version/);
  });

  it('offers the module types a node can create from JSON, not BestOfN or Refine (they need a reward function)', async () => {
    const { stdout } = await cli('module', 'create', '--help');
    expect(stdout).toContain(
      'Predict, ChainOfThought (COT), ChainOfThoughtWithHint, ReAct, ProgramOfThought (PoT), MultiChainComparison',
    );
    expect(stdout).not.toMatch(/BestOfN|Refine/);
  });
});

describe('tether inspect lines', () => {
  const at = new Date('2026-11-21T12:00:01.234Z');
  const snapshot = { type: 'snapshot', node: 'node-a', sessionId: 'chat-1', status: 'active', context: {} } as const;

  it('name the process, the event and the state path', () => {
    expect(
      transitionLine(
        { ...snapshot, machine: 'module', moduleId: 'qa', event: { type: 'execute' }, value: 'syncing' },
        at,
      ),
    ).toBe('12:00:01.234  node-a  chat-1  module qa  execute → syncing');
    expect(
      transitionLine({ ...snapshot, machine: 'session', event: { type: 'write' }, value: { active: 'writing' } }, at),
    ).toBe('12:00:01.234  node-a  chat-1  session  write → active.writing');
  });

  it('show a status other than active, parallel regions, and a snapshot without an event', () => {
    expect(
      transitionLine(
        { ...snapshot, machine: 'session', status: 'done', event: undefined, value: { a: 'x', b: { c: 'y' } } },
        at,
      ),
    ).toBe('12:00:01.234  node-a  chat-1  session  ? → a.x, b.c.y [done]');
  });

  it('refuse a bad session id (exit 2) and an unreachable NATS (exit 3) with one line', async () => {
    const [badSession, unreachable] = await Promise.all([
      cli('inspect', '--session', 'a b'),
      cli('inspect', '--nats', 'nats://127.0.0.1:1'),
    ]);
    expect([badSession.code, badSession.stdout]).toEqual([2, '']);
    expect(badSession.stderr).toMatch(/^tether: usage: --session 'a b' is no session id.*\n$/);
    expect([unreachable.code, unreachable.stdout]).toEqual([3, '']);
    expect(unreachable.stderr).toBe(
      'tether: nats_unreachable: cannot reach NATS at nats://127.0.0.1:1 (CONNECTION_REFUSED)\n',
    );
  });
});
