/**
 * The differential fuzzer's calls: a seeded draw of one public Session or module call, with its arguments fixed at
 * the draw, to be applied as it is to each side. What depends on a side (a variable's identity for `expectedId`, its
 * version for `expectedVersion`, the records an import gets from an export) is read on that side when applied, by
 * the same public calls, so every side is asked the same question of its own state.
 * @module
 */
import { inspect } from 'node:util';
import type { ModuleApi } from '../../../src/modules/module-api.js';
import type { SessionApi } from '../../../src/session/session-api.js';
import type { FuzzRandom } from '../wire-fuzz/random.js';
import {
  NAMES,
  NAME_TYPES,
  cleanDefinition,
  defineOptions,
  someInputs,
  someModuleId,
  someName,
  someOwner,
  somePattern,
  someSpec,
  typeFor,
  valueFor,
} from './values.js';

/** One side's handles, which the calls go through. */
export interface SideHandles {
  session: SessionApi;
  /** The module handles got so far, by id (the last one got for each). */
  readonly modules: Map<string, ModuleApi>;
  /** A new handle of the session: `runtime.session(id)` or `client.session(id)`. */
  reopen(): Promise<SessionApi>;
  /** Whether the session handle was stopped since it was opened. */
  stopped?: boolean;
  /** Attaches the side's module listeners to a handle a call got, `created` with it or not (see listeners.ts). */
  listen(handle: ModuleApi, created?: boolean): Promise<void>;
}

/** One call, drawn once and applied to every side. */
export interface Operation {
  /** What it calls with which arguments, as a failure prints it. */
  readonly label: string;
  apply(side: SideHandles): Promise<unknown>;
}

const show = (value: unknown): string => inspect(value, { depth: 4, breakLength: Infinity, maxStringLength: 40 });
const args = (...values: unknown[]): string => values.map(show).join(', ');

/** A module handle as comparable: the session and module it is of, and whether it is alive. */
export function handleView(handle: ModuleApi): unknown {
  return { sessionId: handle.sessionId, moduleId: handle.moduleId, alive: handle.alive };
}

/** A name's usual type, for values of names that are not in the pool. */
const typeOfName = (name: unknown): string | undefined => (typeof name === 'string' ? NAME_TYPES[name] : undefined);

/** An option bag for a write: none mostly, else who writes and why, or keys and kinds it refuses. */
function writeOptions(random: FuzzRandom, extra: Record<string, unknown> = {}): unknown {
  if (random.chance(0.5) && Object.keys(extra).length === 0) return undefined;
  if (random.chance(0.1)) return random.pick([null, 'alice', [], { updatedby: 'alice' }, { reason: 5 }]);
  const options: Record<string, unknown> = { ...extra };
  if (random.chance(0.5)) options.updatedBy = someOwner(random);
  if (random.chance(0.3)) options.reason = random.pick(['because', '', 7]);
  return options;
}

const UPDATES: [string, (value: unknown) => unknown][] = [
  ['increment', (value) => (typeof value === 'number' ? value + 1 : value)],
  ['same', (value) => value],
  ['text', () => 'zzz'],
  [
    'throws',
    () => {
      throw new Error('update refused by the caller');
    },
  ],
  ['undefined', () => undefined],
  ['async', async (value) => value],
];

type Maker = (random: FuzzRandom) => Operation;

const define: Maker = (random) => {
  if (random.chance(0.5)) {
    const name = random.pick(NAMES);
    const [type, value, options] = cleanDefinition(random, name);
    return {
      label: `defineVariable(${args(name, type, value, options)})`,
      apply: (side) => side.session.defineVariable(name, type as never, value, options as never),
    };
  }
  const name = someName(random);
  const type = typeFor(random, name);
  const value = valueFor(random, type);
  const options = defineOptions(random, type);
  return {
    label: `defineVariable(${args(name, type, value, options)})`,
    apply: (side) => side.session.defineVariable(name as string, type as never, value, options as never),
  };
};

const set: Maker = (random) => {
  const name = someName(random);
  const value = valueFor(random, random.chance(0.9) ? typeOfName(name) : 'json');
  const cas = random.pick(['none', 'none', 'version', 'id', 'both']);
  const delta = random.pick([0, 0, -1, 1]);
  const plain = writeOptions(random);
  const label = `setVariable(${args(name, value)}, ${cas === 'none' ? show(plain) : `{ ${cas} ${delta} }`})`;
  return {
    label,
    apply: async (side) => {
      if (cas === 'none') return side.session.setVariable(name as string, value, plain as never);
      const record = await side.session.describeVariable(name as string).catch(() => undefined);
      const options: Record<string, unknown> = {};
      if (cas !== 'id') options.expectedVersion = (record?.version ?? 1) + delta;
      if (cas !== 'version') options.expectedId = delta === 0 ? (record?.id ?? 'no-such-id') : 'another-id';
      return side.session.setVariable(name as string, value, options);
    },
  };
};

const setMany: Maker = (random) => {
  const values: Record<string, unknown> = {};
  for (let i = random.int(4); i >= 0; i -= 1) {
    const name = someName(random);
    values[typeof name === 'string' ? name : String(name)] = valueFor(random, typeOfName(name));
  }
  const options = writeOptions(random, random.chance(0.6) ? { atomic: random.pick([true, false, 'yes']) } : {});
  const batch = random.chance(0.05) ? random.pick([null, [1], 'x']) : values;
  return {
    label: `setVariables(${args(batch, options)})`,
    apply: (side) => side.session.setVariables(batch as never, options as never),
  };
};

const update: Maker = (random) => {
  const name = someName(random);
  const [what, fn] = random.chance(0.95) ? random.pick(UPDATES) : ['not a function', 5 as never];
  const options = writeOptions(random);
  return {
    label: `updateVariable(${args(name)}, <${what}>, ${show(options)})`,
    apply: (side) => side.session.updateVariable(name as string, fn, options as never),
  };
};

const remove: Maker = (random) => {
  const name = someName(random);
  const options = random.chance(0.6) ? undefined : random.chance(0.8) ? { updatedBy: someOwner(random) } : { by: 1 };
  return {
    label: `deleteVariable(${args(name, options)})`,
    apply: (side) => side.session.deleteVariable(name as string, options as never),
  };
};

const get: Maker = (random) => {
  const name = someName(random);
  const options = random.chance(0.6) ? undefined : random.pick([{ default: 0 }, { default: null }, {}, { dflt: 1 }, 3]);
  return {
    label: `getVariable(${args(name, options)})`,
    apply: (side) => side.session.getVariable(name as string, options as never),
  };
};

const getMany: Maker = (random) => {
  const names = random.chance(0.9)
    ? Array.from({ length: random.int(5) }, () => someName(random))
    : random.pick([null, 't', { 0: 't' }, undefined]);
  return { label: `getVariables(${args(names)})`, apply: (side) => side.session.getVariables(names as never) };
};

const has: Maker = (random) => {
  const name = someName(random);
  return { label: `hasVariable(${args(name)})`, apply: (side) => side.session.hasVariable(name as string) };
};

const describeVariable: Maker = (random) => {
  const name = someName(random);
  return { label: `describeVariable(${args(name)})`, apply: (side) => side.session.describeVariable(name as string) };
};

const list: Maker = (random) => {
  const pattern = somePattern(random);
  return { label: `listVariables(${args(pattern)})`, apply: (side) => side.session.listVariables(pattern as never) };
};

const history: Maker = (random) => {
  const name = someName(random);
  const options = random.chance(0.6) ? undefined : random.pick([{ limit: 1 }, { limit: 3 }, { limit: 0 }, { max: 1 }]);
  return {
    label: `variableHistory(${args(name, options)})`,
    apply: (side) => side.session.variableHistory(name as string, options as never),
  };
};

const rollback: Maker = (random) => {
  const name = someName(random);
  const version = random.pick([1, 1, 2, 3, 5, 0, -1, 1.5, '1', 100]);
  const options = random.chance(0.7) ? undefined : { updatedBy: someOwner(random) };
  return {
    label: `rollbackVariable(${args(name, version, options)})`,
    apply: (side) => side.session.rollbackVariable(name as string, version as number, options as never),
  };
};

const lock: Maker = (random) => {
  const name = someName(random);
  const owner = someOwner(random);
  const call = random.pick(['lockVariable', 'unlockVariable'] as const);
  return {
    label: `${call}(${args(name, owner)})`,
    apply: (side) => side.session[call](name as string, owner as never),
  };
};

const exportAll: Maker = () => ({ label: 'exportVariables()', apply: (side) => side.session.exportVariables() });

const importSome: Maker = (random) => {
  const rename = random.chance(0.4) ? random.pick(NAMES) : undefined;
  const replace = random.pick([undefined, true, false, 'yes']);
  const options = replace === undefined ? undefined : { replace, ...(random.chance(0.3) ? { updatedBy: 'bob' } : {}) };
  const garbage = random.chance(0.15)
    ? random.pick([[null], [{ name: 't' }], 'x', [{ name: 'a.b', type: 'float' }]])
    : undefined;
  const take = random.int(3);
  return {
    label: `importVariables(<${garbage === undefined ? `${take} exported${rename ? ` as ${rename}` : ''}` : show(garbage)}>, ${show(options)})`,
    apply: async (side) => {
      let records: unknown = garbage;
      if (records === undefined) {
        const exported = (await side.session.exportVariables()).slice(0, take);
        records = rename ? exported.map((record) => ({ ...record, name: rename })) : exported;
      }
      return side.session.importVariables(records as never, options as never);
    },
  };
};

const createModule: Maker = (random) => {
  const id = someModuleId(random);
  const spec = someSpec(random);
  return {
    label: `module(${args(id, spec)})`,
    apply: async (side) => {
      const handle = await side.session.module(id as string, spec as never);
      side.modules.set(id as string, handle);
      const view = handleView(handle);
      await side.listen(handle, true);
      return view;
    },
  };
};

const getModule: Maker = (random) => {
  const id = someModuleId(random);
  return {
    label: `module(${args(id)})`,
    apply: async (side) => {
      const handle = await side.session.module(id as string);
      side.modules.set(id as string, handle);
      const view = handleView(handle);
      await side.listen(handle);
      return view;
    },
  };
};

const listModules: Maker = () => ({
  label: 'modules()',
  apply: async (side) => {
    const handles = await side.session.modules();
    const views = handles.map(handleView);
    for (const handle of handles) await side.listen(handle);
    return views;
  },
});

/** A call on the module handle of `id` got earlier (or another one got earlier, or, where there is none, one got now). */
function onModule(random: FuzzRandom, call: string, use: (handle: ModuleApi) => Promise<unknown>): Operation {
  const id = random.pick(['qa', 'qb']);
  return {
    label: `module '${id}'.${call}`,
    apply: async (side) => {
      // Else the first module the side holds a handle of: the sides hold the same ones while they agree.
      let handle = side.modules.get(id) ?? [...side.modules.values()][0];
      if (!handle) {
        handle = await side.session.module(id);
        side.modules.set(id, handle);
        await side.listen(handle);
      }
      return use(handle);
    },
  };
}

const execute: Maker = (random) => {
  const inputs = someInputs(random);
  const options = random.chance(0.8)
    ? undefined
    : random.pick([{ timeoutMs: 0 }, { timeout: 5 }, null, { timeoutMs: 'x' }, 'aborted', 'aborted']);
  // A signal that fired already (made at the call, one per side): the module, or its session, gone is said first.
  const withSignal = (): unknown =>
    options === 'aborted' ? { signal: AbortSignal.abort('changed my mind') } : options;
  const shown = options === 'aborted' ? '{ signal: <aborted> }' : show(options);
  return onModule(random, `execute(${show(inputs)}, ${shown})`, (handle) =>
    handle.execute(inputs as never, withSignal() as never),
  );
};

const describeModule: Maker = (random) => onModule(random, 'describe()', (handle) => handle.describe());

const stopModule: Maker = (random) => onModule(random, 'stop()', (handle) => handle.stop());

const deleteSession: Maker = () => ({ label: 'session.delete()', apply: (side) => side.session.delete() });

/** Stops the session handle: its calls, and its module handles', are refused until it is reopened. */
const stopSession: Maker = () => ({
  label: 'session.stop()',
  apply: async (side) => {
    await side.session.stop();
    side.stopped = true;
  },
});

const reopen: Maker = () => ({
  label: 'reopen the session',
  apply: async (side) => {
    side.session = await side.reopen();
    side.modules.clear();
    // Documented: an embedded session's stop ends its modules (in memory for good; a node keeps their specs, which
    // its `modules()` no longer lists: README, "Stopping a node, or a session on one node"), a remote handle's stop
    // leaves them running (README, "A client's `session.stop()`"). Stopped here, the sides go on alike.
    if (side.stopped)
      for (const id of ['qa', 'qb'])
        await side.session.module(id).then(
          (qa) => qa.stop(),
          () => {},
        );
    side.stopped = false;
    return side.session.sessionId;
  },
});

const MAKERS: [number, Maker][] = [
  [14, define],
  [16, set],
  [8, setMany],
  [5, update],
  [5, remove],
  [6, get],
  [4, getMany],
  [3, has],
  [4, describeVariable],
  [3, list],
  [5, history],
  [5, rollback],
  [8, lock],
  [2, exportAll],
  [3, importSome],
  [4, createModule],
  [2, getModule],
  [1, listModules],
  [2, describeModule],
  [6, execute],
  [0.7, stopModule],
  [0.4, deleteSession],
  [0.5, stopSession],
  [3, reopen],
];
const TOTAL = MAKERS.reduce((sum, [weight]) => sum + weight, 0);

/** Draws the next call. */
export function nextOperation(random: FuzzRandom): Operation {
  let draw = random.next() * TOTAL;
  for (const [weight, make] of MAKERS) {
    draw -= weight;
    if (draw < 0) return make(random);
  }
  return MAKERS[0]![1](random);
}
