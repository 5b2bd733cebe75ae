import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../src/cli/cli.js';
import { recordLimitFor } from '../src/nats/record-codec.js';
import { DEFAULT_REMOTE_EXECUTION_TIMEOUT_MS, replyWaitMs } from '../src/nats/remote-execution.js';
import { packageVersion } from '../src/package-version.js';
import { cli } from './support/cli-in-process.js';

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
    // The client waits no longer, whatever the node allows: a node set to allow more needs --timeout.
    expect(stdout).toContain(`120000 unless it sets a shorter one; a node that allows longer needs --timeout`);
    expect(replyWaitMs(undefined)).toBe(DEFAULT_REMOTE_EXECUTION_TIMEOUT_MS + 2000);
    expect((await cli('var', 'get', '--help')).stdout).toMatch(
      /--timeout <ms> +how long a request waits.*default 5000/,
    );
  });

  it("states serve's --max-record-bytes default as the node computes it from max_payload", async () => {
    const { stdout } = await cli('serve', '--help');
    expect(stdout).toContain(
      `(max_payload - 4 KiB) / 2 of the server's: ${recordLimitFor(1024 * 1024)} for its default`,
    );
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
    // `help` after a group is its help too, as --help there is (found by mutation: no test asked for it).
    for (const group of ['var', 'module', 'session']) {
      const [asked, flag] = await Promise.all([cli(group, 'help'), cli(group, '--help')]);
      expect([asked.code, asked.stdout], group).toEqual([0, flag.stdout]);
    }
  });
});

describe('cli values and version', () => {
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
