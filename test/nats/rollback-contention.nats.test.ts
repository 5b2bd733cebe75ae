/**
 * A rollback on one node while another node keeps writing the variable. The writer learns its next version from its
 * own write's answer, a round trip before the rollback can read it. Before, the rollback's read of the versions chased
 * the writer (it read each write that landed meanwhile, for as long as they came), and each lost try read them all
 * again: the version asked for was gone from the history before a try could land.
 */
import { describe, expect, it } from 'vitest';
import { useNatsFixture } from '../support/nats-fixture.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();

describe('a rollback while another node writes the variable back to back', () => {
  it('lands, as a version among the writer’s', async () => {
    const buckets = fx().buckets();
    const [rolling, writing] = await Promise.all([fx().node(buckets), fx().node(buckets)]);
    const here = await rolling!.runtime.session('contended');
    const there = await writing!.runtime.session('contended');
    await here.defineVariable('n', 'integer', 1);
    await waitFor(() => there.hasVariable('n'), { message: 'the definition routed to the writing node' });
    let writes = 0;
    let target: number | undefined;
    let writingOn = true;
    const writer = (async () => {
      while (writingOn) {
        const record = await there.setVariable('n', 100 + ++writes);
        if (writes === 10) target = record.version;
      }
    })();
    // The tenth write's version, which the bucket keeps (64 per key) while the writer goes on.
    await waitFor(() => target, { message: 'the writer under way' });
    const writesBefore = writes;
    const rolledBack = await here.rollbackVariable('n', target!).finally(() => (writingOn = false));
    const writesDuring = writes - writesBefore;
    await writer;

    expect(rolledBack).toMatchObject({ value: 110, reason: `rollback to version ${target}` });
    // Written between the writer's versions, and kept among them.
    const history = await here.variableHistory('n');
    expect(history.find((entry) => entry.version === rolledBack.version)).toMatchObject({ value: 110 });
    // It raced the writer: writes landed while it went on.
    expect(writesDuring).toBeGreaterThan(0);
  });
});
