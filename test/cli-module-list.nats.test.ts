/**
 * `tether module list` lists a session's modules, then describes each. A module that another client stops between
 * the two (a normal thing in a shared session) is left out; found by a review, it failed the whole listing with
 * `module_not_found`, naming a module the user never asked about, and printed nothing of the others.
 */
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { connect } from '../src/index.js';
import { RemoteSession } from '../src/nats/remote-session.js';
import { useCliNode } from './support/cli-node.js';

const { inProcess, server } = useCliNode();

describe('cli module list', () => {
  it('prints one line per module in aligned columns, which a split on spaces still reads', async () => {
    const client = await connect({ servers: server().url });
    onTestFinished(() => client.close());
    const session = await client.session('module-columns');
    await session.module('qa', { type: 'Predict', signature: 'question:string -> answer:string' });
    await session.module('summarizer', { type: 'ChainOfThought', signature: 'article:string -> summary:string' });
    const run = await inProcess(['module', 'list', '--session', 'module-columns']);
    expect([run.code, run.stderr]).toEqual([0, '']);
    const counts = '0 completed, 0 failed on the node that answered';
    expect(run.stdout.split('\n').filter(Boolean).sort()).toEqual([
      `qa          Predict         idle  ${counts}`,
      `summarizer  ChainOfThought  idle  ${counts}`,
    ]);
  });

  it('lists the modules still there when one is stopped by another client while it lists', async () => {
    const client = await connect({ servers: server().url });
    onTestFinished(() => client.close());
    const session = await client.session('module-list');
    const spec = { type: 'Predict', signature: 'question:string -> answer:string' } as const;
    const keep = await session.module('keep', spec);
    const gone = await session.module('gone', spec);
    expect(keep.alive).toBe(true);

    // The interleaving a busy shared session produces: the other client's stop lands right after the listing.
    const original = RemoteSession.prototype.modules;
    const spy = vi.spyOn(RemoteSession.prototype, 'modules').mockImplementation(async function (this: RemoteSession) {
      const handles = await original.call(this);
      await gone.stop();
      return handles;
    });
    onTestFinished(() => spy.mockRestore());

    const run = await inProcess(['module', 'list', '--session', 'module-list']);
    expect(spy).toHaveBeenCalledTimes(1);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^keep {2}Predict /m);
    expect(run.stdout).not.toMatch(/^gone /m);
  });
});
