/**
 * What the peers read from the bench's configuration.
 * @module
 */
import type { NatsNodeOptions } from '../../src/index.js';

/** The string `key` of a peer's configuration. */
export function text(config: Readonly<Record<string, unknown>>, key: string): string {
  return String(config[key]);
}

/** A node's NATS options from the configuration's `url`, subject prefix and bucket names (those it has). */
export function nodeOptions(config: Readonly<Record<string, unknown>>, name: string): NatsNodeOptions {
  const given = (key: string) => (config[key] === undefined ? {} : { [key]: text(config, key) });
  return {
    servers: text(config, 'url'),
    name,
    ...given('prefix'),
    ...given('variablesBucket'),
    ...given('sessionsBucket'),
    ...given('modulesBucket'),
  };
}
