/**
 * `runtime.processes()` on a Runtime, as Elixir's `Process.list()`: what an operator or an inspection tool lists to
 * see what a node runs, its sessions' and modules' processes beside those the user spawned.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Runtime } from '../../src/node/runtime.js';
import { createEchoModel } from '../../src/modules/index.js';
import { counterMachine } from './fixtures.js';

const runtimes: Runtime[] = [];
afterEach(async () => {
  for (const runtime of runtimes.splice(0)) await runtime.stop();
});

describe('runtime.processes()', () => {
  it("lists every live process, a session's, its module's and a user's, in spawn order, and no exited one", async () => {
    const runtime = await Runtime.start({ llm: createEchoModel(), onError: () => {} });
    runtimes.push(runtime);
    const session = await runtime.session('s1');
    await session.defineVariable('t', 'float', 0.5);
    await session.module('qa', { type: 'Predict', signature: 'question -> answer', bindings: { temperature: 't' } });
    const counter = runtime.spawn(counterMachine, { name: 'counter' });

    expect(runtime.processes().map((process) => process.name)).toEqual([
      'tether.session.s1',
      'tether.module.s1.qa',
      'counter',
    ]);
    await runtime.stopProcess(counter);
    expect(runtime.processes().map((process) => process.name)).toEqual(['tether.session.s1', 'tether.module.s1.qa']);
    // A copy: the caller's changes to it change nothing the runtime holds.
    runtime.processes().length = 0;
    expect(runtime.processes()).toHaveLength(2);
  });

  it('is empty once the runtime stopped', async () => {
    const runtime = await Runtime.start({ onError: () => {} });
    await runtime.session('s1');
    runtime.spawn(counterMachine, { name: 'counter' });
    await runtime.stop();
    expect(runtime.processes()).toEqual([]);
  });
});
