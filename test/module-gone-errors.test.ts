import { afterEach, describe, expect, it } from 'vitest';
import { ModuleNotFoundError, NoProcError, Runtime, SessionError, type ModuleHandle } from '../src/index.js';
import { moduleProcessName } from '../src/node/module-directory.js';
import { waitFor } from './support/wait-for.js';

const SPEC = { type: 'Predict', signature: 'question:string -> answer:string' } as const;

/** What a call on the handle rejects with, once its module is gone. */
async function refusals(qa: ModuleHandle): Promise<unknown[]> {
  return Promise.all([qa.execute({ question: 'still there?' }), qa.describe()].map((call) => call.catch((e) => e)));
}

/**
 * An embedded module handle tells why its module is gone as a remote handle does: the module stopped is
 * `module_not_found`, its session ended is the `SessionError` the session's own handle gets.
 */
describe('an embedded module handle whose module is gone', () => {
  let runtime: Runtime | undefined;
  afterEach(() => runtime?.stop());

  it('says module_not_found once the module was stopped, and so does a lookup of its id', async () => {
    runtime = await Runtime.start();
    const session = await runtime.session('s');
    const qa = await session.module('qa', SPEC);
    await qa.stop();

    for (const error of await refusals(qa)) {
      expect(error).toBeInstanceOf(ModuleNotFoundError);
      expect(error).toMatchObject({ code: 'module_not_found', details: { sessionId: 's', moduleId: 'qa' } });
    }
    await expect(session.module('qa')).rejects.toBeInstanceOf(ModuleNotFoundError);
    await expect(session.module('never')).rejects.toMatchObject({ code: 'module_not_found' });
  });

  it('says session_stopped once its session handle was stopped, as that handle does', async () => {
    runtime = await Runtime.start();
    const session = await runtime.session('s');
    const qa = await session.module('qa', SPEC);
    await session.stop();
    await waitFor(() => !qa.alive);

    const own = await session.getVariable('x').catch((e: unknown) => e);
    expect(own).toMatchObject({ code: 'session_stopped' });
    for (const error of await refusals(qa)) {
      expect(error).toBeInstanceOf(SessionError);
      expect(error).toMatchObject({ code: 'session_stopped', sessionId: 's' });
    }
  });

  it('says session_expired once its session expired', async () => {
    runtime = await Runtime.start({ sessionTtlMs: 60 });
    const session = await runtime.session('s');
    const qa = await session.module('qa', SPEC);
    await waitFor(() => !runtime?.sessionIds().includes('s'), { message: 'the session expired' });
    await waitFor(() => !qa.alive);

    for (const error of await refusals(qa)) expect(error).toMatchObject({ code: 'session_expired', sessionId: 's' });
  });

  it('says session_not_found once its session was deleted', async () => {
    runtime = await Runtime.start();
    const session = await runtime.session('s');
    const qa = await session.module('qa', SPEC);
    await session.delete();

    for (const error of await refusals(qa)) expect(error).toMatchObject({ code: 'session_not_found', sessionId: 's' });
  });

  it('calls no onState listener once the module was stopped, or its process killed: it has no state', async () => {
    runtime = await Runtime.start();
    const session = await runtime.session('s');
    const stopped = await session.module('qa', SPEC);
    const killed = await session.module('qb', SPEC);
    await stopped.stop();
    await runtime.stopProcess(moduleProcessName('s', 'qb'), 'kill');
    await waitFor(() => !killed.alive);

    const heard: string[] = [];
    const offs = [stopped, killed].map((qa) => qa.onState((state) => heard.push(`${qa.moduleId}: ${state}`)));
    await new Promise((resolve) => setImmediate(resolve));
    expect(heard).toEqual([]);
    for (const off of offs) off();
  });

  it('says noproc once its process was killed: nobody stopped the module, it died', async () => {
    runtime = await Runtime.start();
    const session = await runtime.session('s');
    const qa = await session.module('qa', SPEC);
    await runtime.stopProcess(moduleProcessName('s', 'qa'), 'kill');
    await waitFor(() => !qa.alive);

    for (const error of await refusals(qa)) expect(error).toBeInstanceOf(NoProcError);
  });
});
