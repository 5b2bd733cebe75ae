/**
 * What docs/protocol.md says of each operation's request, as the checks need it: the top-level fields it accepts
 * (any other is refused with `validation_failed`), and whether it only reads.
 * @module
 */

/** The top-level fields each operation accepts (docs/protocol.md); any other must be refused. */
export const ACCEPTED_FIELDS: Readonly<Record<string, readonly string[]>> = {
  'sessions.list': ['after', 'limit'],
  open: [],
  delete: [],
  'var.define': ['name', 'type', 'value', 'options'],
  'var.get': ['name', 'default'],
  'var.getMany': ['names'],
  'var.has': ['name'],
  'var.describe': ['name', 'fresh'],
  'var.list': ['pattern', 'after', 'limit'],
  'var.set': ['name', 'value', 'expectedVersion', 'expectedId', 'updatedBy', 'reason'],
  'var.setMany': ['values', 'atomic', 'updatedBy', 'reason'],
  'var.history': ['name', 'limit', 'after'],
  'var.rollback': ['name', 'version', 'updatedBy'],
  'var.lock': ['name', 'owner'],
  'var.unlock': ['name', 'owner'],
  'var.export': [],
  'var.import': ['records', 'replace', 'updatedBy'],
  'var.delete': ['name', 'updatedBy'],
  'module.create': ['spec'],
  'module.execute': ['inputs', 'executionId', 'timeoutMs'],
  'module.describe': [],
  'module.cancel': ['executionId', 'reason'],
  'module.stop': [],
  'module.list': ['after', 'limit', 'specs'],
  outcome: ['executionId'],
};

/** The operations that read only: a reply to one must not move the variables bucket. */
export const READ_OPERATIONS: ReadonlySet<string> = new Set([
  'var.get',
  'var.getMany',
  'var.has',
  'var.describe',
  'var.list',
  'var.history',
  'var.export',
  'sessions.list',
  'module.describe',
  'module.list',
  'outcome',
]);

/**
 * The top-level keys of a parsed payload that operation `name` does not accept (a variable operation also accepts
 * `tagged`, which says how its values are encoded).
 */
export function unknownFields(name: string, parsed: Record<string, unknown> | undefined): string[] {
  if (!parsed) return [];
  const accepted = ACCEPTED_FIELDS[name] ?? [];
  return Object.keys(parsed).filter((key) => !accepted.includes(key) && !(name.startsWith('var.') && key === 'tagged'));
}
