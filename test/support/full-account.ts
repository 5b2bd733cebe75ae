/**
 * A NATS account whose JetStream storage fills after a few hundred KB, for tests of writes the full storage refuses.
 * @module
 */

/** The account's line in a server config's `accounts { … }` block: user `full`, password `p`, 400 KB of file storage. */
export const FULL_ACCOUNT =
  '  FULL: { jetstream: { max_file: 400000, max_mem: 0 }, users: [{ user: full, password: p }] }';
