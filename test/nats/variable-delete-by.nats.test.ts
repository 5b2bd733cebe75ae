import { describe, expect, it } from 'vitest';
import type { VariableChange } from '../../src/session/session-context.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);

/** A deleter's name no NATS header carries as it is: CR and LF, blanks at both ends, non-ASCII. */
const DELETER = ' ops\r\nZoë 🚀 ';

describe('who deleted a variable, across NATS nodes', () => {
  it("reaches the other node's watchers, a plain events subscriber and a remote watch, exactly; null when nobody was named", async () => {
    const buckets = fx().buckets();
    const a = await fx().runtime(buckets);
    const b = await fx().runtime(buckets);
    const client = await fx().client();
    const onA = await a.session('del');
    await onA.defineVariable('x', 'integer', 1);
    await onA.defineVariable('y', 'integer', 2);
    await onA.defineVariable('z', 'integer', 3);
    const onB = await b.session('del');
    await waitFor(async () => onB.hasVariable('z'), { message: "node b has the session's variables" });

    const fromB: VariableChange[] = [];
    await onB.watchVariables('*', (change) => fromB.push(change));
    const remote: VariableChange[] = [];
    await (await client.session('del')).watchVariables('*', (change) => remote.push(change));
    const events: Record<string, unknown>[] = [];
    const subscription = nc().subscribe('tether.v1.events.del.var.>', {
      callback: (_e, msg) => events.push(msg.json()),
    });
    await nc().flush();

    await onA.deleteVariable('x', { updatedBy: DELETER });
    // Through the service: the node that takes the request deletes.
    await (await client.session('del')).deleteVariable('y', { updatedBy: 'svc-py' });
    await onA.deleteVariable('z');

    const expected = [
      ['x', DELETER],
      ['y', 'svc-py'],
      ['z', null],
    ];
    const who = (changes: readonly { name?: unknown; updatedBy?: unknown; deleted?: unknown }[]) =>
      changes.map((c) => [c.name, c.deleted === true ? c.updatedBy : 'not a delete']);
    await waitFor(() => fromB.length >= 3 && remote.length >= 3 && events.length >= 3, {
      message: 'three deletions heard on node b, by the remote watch and on the events subject',
    });
    subscription.unsubscribe();
    expect(who(fromB)).toEqual(expected);
    expect(who(remote)).toEqual(expected);
    expect(who(events)).toEqual(expected);

    // A client reading the bucket itself finds who deleted on the marker: a JSON string, in printable ASCII.
    const jsm = await nc().jetstreamManager();
    const marker = await jsm.streams.getMessage(`KV_${buckets.variablesBucket}`, {
      last_by_subj: `$KV.${buckets.variablesBucket}.del.x`,
    });
    const header = marker.header.get('Tether-Updated-By');
    expect(header).toMatch(/^[\x20-\x7e]+$/);
    expect(JSON.parse(header)).toBe(DELETER);
  });
});
