import type { JetStreamClient, KV, NatsConnection } from 'nats';
import { describe, expect, it, onTestFinished } from 'vitest';
import { StoreConflictError } from '../../src/errors.js';
import { createEventOutbox } from '../../src/nats/event-outbox.js';
import { createKvStore } from '../../src/nats/kv-store.js';
import { openModuleSpecs } from '../../src/nats/module-specs.js';
import { createSessionDirectory, type SessionDirectory } from '../../src/nats/session-directory.js';
import { startSessionControl } from '../../src/nats/session-control.js';
import { createSessionRemoval } from '../../src/nats/session-removal.js';
import { openSessionLife } from '../../src/nats/session-life.js';
import { createSubjects } from '../../src/nats/subjects.js';
import type { Session } from '../../src/session/session.js';
import type { Store } from '../../src/store/store.js';
import { directoryAndRemoval } from '../support/directory-and-removal.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';

const fx = useNatsFixture();
const plain = usePlainConnection(fx);
let counter = 0;

/**
 * The plain connection, except that the KV buckets opened through it run `meanwhile` before each read of `key`
 * (told which read it is, from 1): what other nodes do between a session directory's reads.
 */
function racingConnection(key: string, meanwhile: (read: number) => Promise<void>): NatsConnection {
  let reads = 0;
  const racing = (kv: KV): KV =>
    new Proxy(kv, {
      get(target, property, receiver) {
        if (property !== 'get') return Reflect.get(target, property, receiver);
        return async (read: string) => {
          if (read === key) await meanwhile(++reads);
          return target.get(read);
        };
      },
    });
  const nc = plain();
  const js = nc.jetstream();
  const racingJs = new Proxy(js, {
    get(target, property, receiver) {
      if (property !== 'views') return Reflect.get(target, property, receiver);
      const views = target.views;
      return { kv: async (...args: Parameters<JetStreamClient['views']['kv']>) => racing(await views.kv(...args)) };
    },
  });
  return new Proxy(nc, {
    get: (target, property, receiver) =>
      property === 'jetstream' ? () => racingJs : Reflect.get(target, property, receiver),
  });
}

/** `store`, except that `then` runs after each listing of its keys (told which listing it is, from 1). */
function afterListing(store: Store<unknown>, then: (listing: number) => Promise<void>): Store<unknown> {
  let listings = 0;
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property !== 'keys') return Reflect.get(target, property, receiver);
      return async (prefix: string) => {
        const keys = await target.keys(prefix);
        await then(++listings);
        return keys;
      };
    },
  });
}

/** Fresh buckets, and the other node's side of them: its directory and its store of variables. */
async function buckets() {
  counter += 1;
  const id = `${process.pid}_${Date.now()}_${counter}`;
  const names = { sessions: `race_sessions_${id}`, variables: `race_vars_${id}`, modules: `race_mods_${id}` };
  await openModuleSpecs(plain(), { bucket: names.modules });
  const other = await createSessionDirectory(plain(), { bucket: names.sessions });
  const otherVariables = await createKvStore<unknown>(plain(), { bucket: names.variables });
  return { names, other, otherVariables };
}

/** The other node's directory begins a life of `s1` (whether or not it had one before). */
async function begin(other: SessionDirectory): Promise<void> {
  other.forget('s1');
  await other.open('s1');
}

/** The other node ends the life of `s1` it finds, as its deletion does first: the record goes. */
async function end(other: SessionDirectory): Promise<void> {
  const live = (await other.read('s1'))!;
  await other.removeAt('s1', live.revision);
}

describe('a session directory opening a session another node created and deleted meanwhile', () => {
  it('rejects with the store_conflict when the record that refused it is gone by the time it looks, and writes nothing', async () => {
    const { names, other } = await buckets();
    await other.open('s1');
    // Refused (the record is there), then, before this node reads whether it still is, the other node deletes it.
    const racing = racingConnection('s1', async (read) => {
      if (read === 2) await end(other);
    });
    const directory = await createSessionDirectory(racing, { bucket: names.sessions });
    const failure = await directory.open('s1').then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(StoreConflictError);
    expect(failure).toMatchObject({ code: 'store_conflict', key: 's1' });
    expect(await other.read('s1')).toBeUndefined();
  });
});

describe("a node's session open racing another node's life of the same id", () => {
  /** A node's session life on the buckets, its directory's reads of `s1` and its listings raced as given. */
  async function lifeOf(
    names: { sessions: string; variables: string; modules: string },
    onRead: (read: number) => Promise<void>,
    onListing: (listing: number) => Promise<void>,
  ) {
    const connection = racingConnection('s1', onRead);
    const directory = await createSessionDirectory(connection, { bucket: names.sessions });
    const variables = afterListing(await createKvStore<unknown>(plain(), { bucket: names.variables }), onListing);
    return openSessionLife(connection, {
      directory,
      variables,
      variablesBucket: names.variables,
      modulesBucket: names.modules,
      subjects: createSubjects(),
      events: createEventOutbox(plain(), () => {}),
      report: () => {},
    });
  }

  it('lists again and creates the next life, with nothing of the life that began and ended after its listing', async () => {
    const { names, other, otherVariables } = await buckets();
    let ended: string | undefined;
    const life = await lifeOf(
      names,
      // This node's third read of the record is its look at why its creation was refused: the life ended by then,
      // its variable left behind (a deletion cut short).
      async (read) => {
        if (read !== 3) return;
        ended = (await other.read('s1'))!.record.incarnation;
        await end(other);
      },
      // After this node's first listing, before its creation: another node's life of `s1` begins and writes.
      async (listing) => {
        if (listing !== 1) return;
        await begin(other);
        await otherVariables.create('s1.v', 1);
      },
    );

    await life.open('s1');

    const now = (await other.read('s1'))!;
    expect(now.record.incarnation).not.toBe(ended);
    expect(await otherVariables.get('s1.v')).toBeUndefined();
  });

  it("tells open's caller it created nothing when the life it began ended and another began before its load", async () => {
    const { names, other } = await buckets();
    const life = await lifeOf(
      names,
      async () => {},
      async () => {},
    );
    // The node's load of the session comes after another node deleted the life this open began and opened the id
    // again: the session handed out is that other life, which this request did not create.
    const provider = life.provider(async (sessionId) => {
      await end(other);
      await begin(other);
      const incarnation = (await other.read(sessionId))!.record.incarnation;
      return { sessionId, incarnation } as Session;
    });

    const { session, created } = await provider.open!('s1');

    expect(session.incarnation).toBe((await other.read('s1'))!.record.incarnation);
    expect(created).toBe(false);
  });

  it('fails with store_conflict naming the session after three such races in a row, and creates nothing', async () => {
    const { names, other } = await buckets();
    let listings = 0;
    const life = await lifeOf(
      names,
      // Each try reads three times: absent, then the refusing record, then (after this) whether it is still there.
      async (read) => {
        if (read % 3 === 0) await end(other);
      },
      async (listing) => {
        listings = listing;
        await begin(other);
      },
    );

    const failure = await life.open('s1').then(
      () => undefined,
      (error: unknown) => error,
    );

    expect(failure).toBeInstanceOf(StoreConflictError);
    expect(failure).toMatchObject({ code: 'store_conflict', key: 's1' });
    expect((failure as Error).message).toContain("'s1'");
    expect(listings).toBe(3);
    expect(await other.read('s1')).toBeUndefined();
  });
});

describe("a node's deletion racing another node's life of the same id", () => {
  /** The plain connection, except that `meanwhile` runs before its first read of stream `stream`'s state. */
  function beforeStreamInfo(stream: string, meanwhile: () => Promise<void>): NatsConnection {
    let ran = false;
    const nc = plain();
    const raced = async (...args: Parameters<NatsConnection['jetstreamManager']>) => {
      const manager = await nc.jetstreamManager(...args);
      const info = manager.streams.info.bind(manager.streams);
      manager.streams.info = async (name, ...rest) => {
        if (name === stream && !ran) {
          ran = true;
          await meanwhile();
        }
        return info(name, ...rest);
      };
      return manager;
    };
    return new Proxy(nc, {
      get: (target, property, receiver) =>
        property === 'jetstreamManager' ? raced : Reflect.get(target, property, receiver),
    });
  }

  it("keeps the new life's writes when the id is opened again between the purges and the compaction", async () => {
    const { names, other, otherVariables } = await buckets();
    await other.open('s1');
    await otherVariables.create('s1.v', 1);
    // Only the compaction reads streams through the removal's connection (its stores and directory have their own).
    // Once the purges are done, it reads where the variables stream got: meanwhile another node opens the id again
    // and writes, below that sequence.
    const connection = beforeStreamInfo(`KV_${names.variables}`, async () => {
      await begin(other);
      await otherVariables.create('s1.v', 2);
    });
    const variables = await createKvStore<unknown>(plain(), { bucket: names.variables });
    const specs = await createKvStore<unknown>(plain(), { bucket: names.modules });
    onTestFinished(async () => void (await Promise.all([variables.close(), specs.close()])));
    const removal = createSessionRemoval({
      connection,
      directory: await createSessionDirectory(plain(), { bucket: names.sessions }),
      variables,
      variablesBucket: names.variables,
      specs,
      modulesBucket: names.modules,
      control: () => undefined,
      recheckMs: 0,
    });

    await removal.delete('s1');

    expect(await other.read('s1')).toBeDefined();
    expect((await otherVariables.get('s1.v'))?.value).toBe(2);
  });
});

describe('a node told that another node deleted a session', () => {
  it('tells the client that opens the id again through it that the open created the session', async () => {
    const buckets = fx().buckets();
    await fx().node(buckets);
    const client = await fx().client();
    const first = await client.session('s1');
    // Another node deletes it: this node hears only the control message (its own record of the id is not removed).
    const control = await startSessionControl(
      plain(),
      createSubjects(),
      () => ({ had: false, done: Promise.resolve() }),
      {
        report: () => {},
      },
    );
    const other = await directoryAndRemoval(plain(), buckets, { control: () => control });
    onTestFinished(async () => {
      control.close();
      await other.close();
    });
    await other.removal.delete('s1');

    const again = await client.session('s1');

    expect(again.incarnation).not.toBe(first.incarnation);
    // What `tether var define` relies on to remove the session again when the write is refused.
    expect(again.created).toBe(true);
  });
});
