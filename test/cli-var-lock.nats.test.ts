import { describe, expect, it } from 'vitest';
import { useCliNode } from './support/cli-node.js';

const { inProcess } = useCliNode();

describe('cli', () => {
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
});
