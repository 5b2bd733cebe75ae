import { describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/cli.js';
import { connect } from '../src/nats/remote-client.js';
import { errorLines } from './support/cli-runners.js';
import { useCliNode } from './support/cli-node.js';

const { tether, inProcess, server } = useCliNode();

describe('cli session list', () => {
  it('prints every session, one id per line in order, through as many pages as there are', async () => {
    const none = await inProcess(['session', 'list']);
    expect([none.code, none.stdout, none.stderr]).toEqual([0, '', '']);

    const client = await connect({ servers: server().url, onError: () => {} });
    // One more than a page of the node's default size: the command must ask for the next page.
    const ids = Array.from({ length: 1001 }, (_, i) => `cli-list-${String(i).padStart(4, '0')}`);
    try {
      for (let i = 0; i < ids.length; i += 100)
        await Promise.all(ids.slice(i, i + 100).map((id) => client.session(id)));
      expect(await client.listSessions({ after: ids[998] })).toEqual({ ids: ids.slice(999) });
      expect((await client.listSessions()).next).toBe(ids[999]);
      // Nobody reads any more (`| head -1`): the page in hand is printed, the next is not asked for (found by
      // mutation: asking for every page passed every test).
      const lines: string[] = [];
      const closed = await runCli(['session', 'list'], {
        out: (line) => void lines.push(line),
        err: () => {},
        env: { NATS_URL: server().url },
        outputClosed: Promise.resolve(),
      });
      expect([closed, lines.length, lines.at(-1)]).toEqual([0, 1000, ids[999]]);
      await (await client.session(ids[500]!, { create: false })).delete();
    } finally {
      await client.close();
    }
    const listed = await tether(['session', 'list']);
    expect([listed.code, listed.stderr]).toEqual([0, '']);
    expect(listed.stdout).toBe(
      ids
        .filter((id) => id !== ids[500])
        .map((id) => `${id}\n`)
        .join(''),
    );
  });

  it('prints its help, and fails with one line and a non-zero exit code', async () => {
    const [help, noNode, unreachable, usage] = await Promise.all([
      inProcess(['session', 'list', '--help']),
      // No node serves this prefix: the request has no responders.
      inProcess(['session', 'list', '--prefix', 'nobody']),
      inProcess(['session', 'list', '--nats', 'nats://127.0.0.1:1']),
      inProcess(['session', 'list', 'extra']),
    ]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: tether session list');
    expect(help.stdout).toContain('--timeout');
    expect(noNode.code).toBe(3);
    expect(errorLines(noNode)).toHaveLength(1);
    expect(noNode.stderr).toMatch(/^tether: noproc: /);
    expect(unreachable.code).toBe(3);
    expect(errorLines(unreachable)).toEqual([
      'tether: nats_unreachable: cannot reach NATS at nats://127.0.0.1:1 (CONNECTION_REFUSED)',
    ]);
    expect([usage.code, usage.stderr]).toEqual([
      2,
      "tether: usage: unexpected argument 'extra' (see: tether session list --help)\n",
    ]);
    expect(noNode.stdout + unreachable.stdout + usage.stdout).toBe('');
  });
});
