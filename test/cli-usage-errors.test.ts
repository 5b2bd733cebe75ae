import { describe, expect, it } from 'vitest';
import { cli } from './support/cli-in-process.js';

describe('cli', () => {
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
      // The version is asked for alone, not after a command: `help --version` is told so, not to put it after one.
      [
        ['help', '--version'],
        "tether: usage: unknown command '--version': for the version, run 'tether --version' alone (see: tether --help)",
      ],
      [
        ['help', '-V'],
        "tether: usage: unknown command '-V': for the version, run 'tether -V' alone (see: tether --help)",
      ],
      [
        ['var', 'sett', 't', '1'],
        "tether: usage: unknown command 'var sett': did you mean 'var set'? (see: tether var --help)",
      ],
      [['sesion', 'list'], "tether: usage: unknown command 'sesion': did you mean 'session'? (see: tether --help)"],
      [['hlep'], "tether: usage: unknown command 'hlep': did you mean 'help'? (see: tether --help)"],
      [
        ['var'],
        "tether: usage: 'var' needs a command: define, get, set, delete, list, history, watch, lock, unlock, export, import (see: tether var --help)",
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
      // A value that looks like a long option (a flag a script stores) is told the same (found by an audit: it got
      // the bare 'Unknown option', with no word of '--'), unless the command has all its arguments besides.
      [
        ['var', 'set', 'flags', '--verbose', '-s', 'a'],
        "tether: usage: Unknown option '--verbose': an argument starting with a dash goes after '--', as in '-- --verbose' (see: tether var set --help)",
      ],
      [
        ['var', 'define', 'flags', 'string', '--level=3', '-s', 'a'],
        "tether: usage: Unknown option '--level=3': an argument starting with a dash goes after '--', as in '-- --level=3' (see: tether var define --help)",
      ],
      [
        ['var', 'set', 'flags', '1', '-s', 'a', '--verbose'],
        "tether: usage: Unknown option '--verbose': tether var set has no such option (its arguments: <name> <value>) (see: tether var set --help)",
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
        ['module', 'create', 'qa', '-s', 'a', '--type', 'Predict', '--type-variable', 'kind', '--signature', 'q -> a'],
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
      // A field needs a name: `=x` would be the field ''.
      [['module', 'call', 'qa', '-s', 'a', '--input', '=x'], "tether: usage: --input takes key=value, got '=x'"],
      // JSON options that must be objects: a list parses, and is still refused.
      [
        ['var', 'define', 't', 'float', '1', '-s', 'a', '--constraints', '[1]'],
        'tether: usage: --constraints must be a JSON object',
      ],
      [['module', 'call', 'qa', '-s', 'a', '--inputs', '[]'], 'tether: usage: --inputs must be a JSON object'],
      [['module', 'create', 'qa', '-s', 'a', '--spec', '[]'], 'tether: usage: --spec must be a JSON object'],
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
      // Digits only: what Number() would also read (an exponent, hex, a point, nothing at all) is no whole number as
      // typed, and an empty value (an unset shell variable) must not become 0.
      [
        ['var', 'get', 't', '-s', 'a', '--timeout', '1e3'],
        "tether: usage: --timeout must be a whole number from 1 to 2147483647, got '1e3'",
      ],
      [
        ['serve', '--replicas', '0x3'],
        "tether: usage: --replicas must be a whole number from 1 to 9007199254740991, got '0x3'",
      ],
      [
        ['var', 'set', 't', '1', '-s', 'a', '--expected-version', '1.0'],
        "tether: usage: --expected-version must be a whole number from 1 to 9007199254740991, got '1.0'",
      ],
      [
        ['serve', '--unavailable-retry', ''],
        "tether: usage: --unavailable-retry must be a whole number from 0 to 2147483647, got ''",
      ],
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
      // Left to nats.js, no server at all would be its default, a local one: not what was asked for.
      [
        ['var', 'get', 't', '-s', 'a', '--nats', ' , '],
        'tether: usage: --nats names no server (see: tether var get --help)',
      ],
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
});
