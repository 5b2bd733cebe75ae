/**
 * A NATS server with a small max_payload for the tests of what a node does at and past its record limit
 * (payload-limits-*.nats.test.ts), with the sizes read from the server and helpers that make records of a given size.
 */
import { recordLimitFor, variableRecordCodec } from '../../src/nats/record-codec.js';
import type { RemoteSession } from '../../src/nats/remote-session.js';
import type { VariableRecord } from '../../src/variables/types.js';
import { useNatsFixture, usePlainConnection } from './nats-fixture.js';

/** The file's fixture on a small max_payload, a plain connection to it, and sizes read from the server. */
export function usePayloadLimitFixture() {
  // A small max_payload keeps the values small; the sizes below are read from the server, so NATS_URL works too.
  const fx = useNatsFixture({ maxPayload: 64 * 1024 });
  const nc = usePlainConnection(fx);

  const maxPayload = (): number => nc().info!.max_payload;
  const limit = (): number => recordLimitFor(maxPayload());
  const codec = variableRecordCodec();

  /**
   * The length of a string value that makes `record`, at its next version, exactly `bytes` long encoded (a write
   * changes the version and the timestamp, whose ISO form has a fixed length).
   */
  function valueLengthFor(record: VariableRecord, bytes: number): number {
    return bytes - codec.encode({ ...record, value: '', version: record.version + 1 }).length;
  }

  /** Defines `count` string variables `v0...` whose records are each just under the node's record limit. */
  async function defineLargeVariables(session: RemoteSession, count: number): Promise<void> {
    for (let i = 0; i < count; i++) {
      const record = await session.defineVariable(`v${i}`, 'string', '');
      await session.setVariable(`v${i}`, 'x'.repeat(valueLengthFor(record, limit())));
    }
  }

  return { fx, nc, maxPayload, limit, codec, valueLengthFor, defineLargeVariables };
}
