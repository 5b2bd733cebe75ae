/**
 * A bucket message read by sequence (a message get), as the `KvEntry` a watch delivers: a watch fills a gap its
 * consumer left with such reads (kv-watch-gaps.ts), and what reads the entries must not tell them apart. The
 * message stays reachable as `sm`, where the entries a consumer delivers keep theirs (kv-updated-by.ts reads its
 * headers there).
 * @module
 */
import type { KvEntry, StoredMsg } from 'nats';

/** The header a KV delete or purge marker names its operation in. */
const OPERATION_HEADER = 'KV-Operation';

/** A stored message of bucket `bucket`, whose subjects are `$KV.<bucket>.<key>`. */
export class StoredKvEntry implements KvEntry {
  constructor(
    readonly bucket: string,
    readonly sm: StoredMsg,
  ) {}

  get key(): string {
    // `$KV.` + bucket + `.`: keys carry no encoding here (no key codec is set on the buckets).
    return this.sm.subject.slice(this.bucket.length + 5);
  }

  get value(): Uint8Array {
    return this.sm.data;
  }

  get created(): Date {
    return this.sm.time;
  }

  get revision(): number {
    return this.sm.seq;
  }

  get delta(): number {
    return 0;
  }

  get operation(): KvEntry['operation'] {
    const operation = this.sm.header?.get(OPERATION_HEADER);
    return operation === 'DEL' || operation === 'PURGE' ? operation : 'PUT';
  }

  get length(): number {
    return this.sm.data.length;
  }

  json<T>(): T {
    return this.sm.json<T>();
  }

  string(): string {
    return this.sm.string();
  }
}
