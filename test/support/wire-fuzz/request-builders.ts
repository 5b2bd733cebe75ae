/**
 * One well-formed request builder per operation of docs/protocol.md, weighted toward the writes, naming variables,
 * modules and owners the model knows (mostly) or does not (sometimes), so replies are as often successes as refusals.
 * @module
 */
import { plainObject } from './json-text.js';
import type { FuzzModel } from './model.js';
import type { FuzzRandom } from './random.js';
import { NEW_VARIABLE_TYPES, OWNERS, validSpec, validValue } from './valid-values.js';

/** Where a request goes: its subject, and the session and module ids in it (for the id mutations). */
export interface Target {
  readonly subject: string;
  /** `''` for `sessions.list`, which names no session. */
  readonly sid: string;
  readonly mid?: string;
}

/** An operation the fuzzer sends. */
export interface FuzzOperation {
  /** As docs/protocol.md names it (`var.set`, `module.execute`), `outcome` for the outcome subject. */
  readonly name: string;
  /** Its share of the requests. */
  readonly weight: number;
  /** A module operation: it sends `Tether-Min-Modules-Revision` too. */
  readonly module?: boolean;
  /** It may change state: the model is compared with the nodes after it. */
  readonly write?: boolean;
  target(): Target;
  body(): Record<string, unknown>;
}

/** The subject of operation `op` of session `sid`. */
export const sessionSubject = (sid: string, op: string): string => `tether.v1.session.${sid}.${op}`;

/**
 * The operations, their requests drawn from `random` and `model`; `nodeIds` are the service ids whose outcome
 * subjects are asked.
 */
export function createOperations(random: FuzzRandom, model: FuzzModel, nodeIds: readonly string[]): FuzzOperation[] {
  const { sid } = model;
  const maybe = <T extends object>(p: number, part: () => T): T | object => (random.chance(p) ? part() : {});
  const someVar = (): string =>
    model.variables.size && random.chance(0.85)
      ? random.pick([...model.variables.keys()])
      : random.pick(['nope', 'f', 'x1', 'x2', '__proto__', 'constructor']);
  const newName = () => random.pick(['x1', 'x2', 'x3', '__proto__', 'constructor', 'prototype', 'f', 'j']);
  const someOwner = () => random.pick(OWNERS);
  const inSession = (op: string) => (): Target => ({ subject: sessionSubject(sid, op), sid });
  const inModule = (op: string) => (): Target => {
    const mid = random.pick(['qa', 'qa', 'm1', 'm2', 'list']);
    return { subject: sessionSubject(sid, `module.${mid}.${op}`), sid, mid };
  };
  const scratch = (op: string) => (): Target => {
    const scratchSid = random.pick(model.scratchSessions);
    return { subject: sessionSubject(scratchSid, op), sid: scratchSid };
  };
  const op = (name: string, weight: number, target: () => Target, body: () => object, flags = {}): FuzzOperation => ({
    name,
    weight,
    target,
    body: body as () => Record<string, unknown>,
    ...flags,
  });
  const write = { write: true };
  const module = { module: true };
  return [
    op(
      'sessions.list',
      2,
      () => ({ subject: 'tether.v1.sessions.list', sid: '' }),
      () => ({
        ...maybe(0.5, () => ({ after: random.pick(['', 'a', 'sc-0', 'zz']) })),
        ...maybe(0.5, () => ({ limit: 1 + random.int(10) })),
      }),
    ),
    op('open', 2, scratch('open'), () => ({}), write),
    op('delete', 2, scratch('delete'), () => ({}), write),
    op(
      'var.define',
      6,
      inSession('var.define'),
      () => {
        const type = random.pick(NEW_VARIABLE_TYPES);
        const body: Record<string, unknown> = { name: newName(), type, value: validValue(random, type) };
        if (random.chance(0.5)) {
          const metadata = (): Record<string, unknown> => {
            const extra = random.chance(0.3) ? [['__proto__', { p: 1 }] as const] : [];
            return plainObject([['owner', 'me'], ...extra]);
          };
          body.options = {
            ...maybe(0.5, () => ({ description: 'd' })),
            ...maybe(0.5, () => ({ metadata: metadata() })),
            ...(type === 'integer' && random.chance(0.5) ? { constraints: { min: 0, max: 10 } } : {}),
          };
        }
        return body;
      },
      write,
    ),
    op('var.get', 4, inSession('var.get'), () => ({
      name: someVar(),
      ...maybe(0.3, () => ({ default: random.pick([1, 'd', null, { a: 1 }]) })),
    })),
    op('var.getMany', 3, inSession('var.getMany'), () => ({ names: [someVar(), someVar()] })),
    op('var.has', 2, inSession('var.has'), () => ({ name: someVar() })),
    op('var.describe', 3, inSession('var.describe'), () => ({
      name: someVar(),
      ...maybe(0.3, () => ({ fresh: true })),
    })),
    op('var.list', 2, inSession('var.list'), () => ({
      ...maybe(0.4, () => ({ pattern: random.pick(['*', 'x*', '?', '[a]']) })),
      ...maybe(0.3, () => ({ after: '' })),
      ...maybe(0.3, () => ({ limit: 1 + random.int(5) })),
    })),
    op(
      'var.set',
      12,
      inSession('var.set'),
      () => {
        const name = someVar();
        const known = model.variables.get(name);
        const body: Record<string, unknown> = { name, value: validValue(random, known?.type ?? 'integer') };
        if (random.chance(0.3)) body.expectedVersion = known ? known.version + (random.chance(0.7) ? 0 : 1) : 1;
        if (random.chance(0.2) && known?.id) body.expectedId = known.id;
        if (random.chance(0.6)) body.updatedBy = known?.lockedBy && random.chance(0.7) ? known.lockedBy : someOwner();
        if (random.chance(0.3)) body.reason = 'r';
        return body;
      },
      write,
    ),
    op(
      'var.setMany',
      8,
      inSession('var.setMany'),
      () => {
        const names = [someVar(), someVar(), someVar()];
        const values = plainObject(
          names.map((n) => [n, validValue(random, model.variables.get(n)?.type ?? 'integer')]),
        );
        return {
          values,
          ...maybe(0.5, () => ({ atomic: random.chance(0.5) })),
          ...maybe(0.6, () => ({ updatedBy: someOwner() })),
          ...maybe(0.2, () => ({ reason: 'r' })),
        };
      },
      write,
    ),
    op('var.history', 2, inSession('var.history'), () => ({
      name: someVar(),
      ...maybe(0.3, () => ({ limit: 1 + random.int(3) })),
      ...maybe(0.3, () => ({ after: random.int(3) })),
    })),
    op(
      'var.rollback',
      4,
      inSession('var.rollback'),
      () => {
        const name = someVar();
        const known = model.variables.get(name);
        const version = 1 + random.int(Math.max(1, known?.version ?? 1));
        return { name, version, ...maybe(0.6, () => ({ updatedBy: known?.lockedBy ?? someOwner() })) };
      },
      write,
    ),
    op('var.lock', 3, inSession('var.lock'), () => ({ name: someVar(), owner: someOwner() }), write),
    op(
      'var.unlock',
      4,
      inSession('var.unlock'),
      () => {
        const name = someVar();
        return { name, owner: model.variables.get(name)?.lockedBy ?? someOwner() };
      },
      write,
    ),
    op('var.export', 1, inSession('var.export'), () => ({})),
    op(
      'var.import',
      4,
      inSession('var.import'),
      () => {
        const records = Array.from({ length: 1 + random.int(2) }, () => {
          const name = random.chance(0.5) ? someVar() : newName();
          const type = model.variables.get(name)?.type ?? random.pick(NEW_VARIABLE_TYPES);
          return { name, type, value: validValue(random, type), ...maybe(0.3, () => ({ description: 'imp' })) };
        });
        return {
          records,
          ...maybe(0.6, () => ({ replace: true })),
          ...maybe(0.5, () => ({ updatedBy: someOwner() })),
        };
      },
      write,
    ),
    op(
      'var.delete',
      3,
      inSession('var.delete'),
      () => {
        const name = someVar();
        return { name, ...maybe(0.6, () => ({ updatedBy: model.variables.get(name)?.lockedBy ?? someOwner() })) };
      },
      write,
    ),
    op('module.create', 4, inModule('create'), () => ({ spec: validSpec(random) }), { ...write, ...module }),
    op(
      'module.execute',
      5,
      inModule('execute'),
      () => ({
        inputs: { question: random.pick(['why?', 'é😀', '']) },
        ...maybe(0.5, () => ({ executionId: `ex${random.int(1e9)}` })),
        ...maybe(0.3, () => ({ timeoutMs: random.pick([5000, 60000]) })),
      }),
      module,
    ),
    op('module.describe', 2, inModule('describe'), () => ({}), module),
    op(
      'module.cancel',
      0.25,
      inModule('cancel'),
      () => ({
        executionId: model.executionIds.length ? random.pick(model.executionIds) : 'ex-none',
        ...maybe(0.5, () => ({ reason: 'stop' })),
      }),
      module,
    ),
    op('module.stop', 1, inModule('stop'), () => ({}), { ...write, ...module }),
    op(
      'module.list',
      2,
      inSession('module.list'),
      () => ({
        ...maybe(0.3, () => ({ after: 'a' })),
        ...maybe(0.3, () => ({ limit: 1 + random.int(5) })),
        ...maybe(0.3, () => ({ specs: random.chance(0.5) })),
      }),
      module,
    ),
    op(
      'outcome',
      2,
      () => ({
        subject: `tether.v1.node.${random.pick(nodeIds)}.${sid}.module.qa.outcome`,
        sid,
        mid: 'qa',
      }),
      () => ({
        executionId: model.executionIds.length && random.chance(0.7) ? random.pick(model.executionIds) : 'ex-none',
      }),
    ),
  ];
}

/** Draws one of `operations` by weight. */
export function pickOperation(random: FuzzRandom, operations: readonly FuzzOperation[]): FuzzOperation {
  let x = random.next() * operations.reduce((sum, operation) => sum + operation.weight, 0);
  for (const operation of operations) if ((x -= operation.weight) < 0) return operation;
  return operations[0]!;
}
