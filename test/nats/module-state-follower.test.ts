import { describe, expect, it } from 'vitest';
import { followModuleState, type ModuleStateFollower } from '../../src/nats/module-state-follower.js';

/** A follower and what its listener heard, as `state` or `state id`. */
function follower(): { follow: ModuleStateFollower; heard: string[] } {
  const heard: string[] = [];
  const follow = followModuleState((state, executionId) => heard.push(executionId ? `${state} ${executionId}` : state));
  return { follow, heard };
}

describe('followModuleState', () => {
  it('tells nothing before the read answers, then its state first and the changes held meanwhile', () => {
    const { follow, heard } = follower();
    follow.change('syncing', 'a');
    follow.change('executing', 'a');
    expect(heard).toEqual([]);
    follow.read({ state: 'idle' });
    follow.change('idle', undefined);
    expect(heard).toEqual(['idle', 'syncing a', 'executing a', 'idle']);
  });

  it('leaves out the held changes a busy read includes: those of its execution up to its state', () => {
    const { follow, heard } = follower();
    follow.change('idle', undefined);
    follow.change('syncing', 'b');
    follow.change('executing', 'b');
    follow.read({ state: 'syncing', executionId: 'b' });
    expect(heard).toEqual(['syncing b', 'executing b']);

    const late = follower();
    late.follow.change('syncing', 'c');
    late.follow.change('executing', 'c');
    late.follow.change('syncing', 'd');
    late.follow.read({ state: 'executing', executionId: 'c' });
    expect(late.heard).toEqual(['executing c', 'syncing d']);
  });

  it('never tells the same state of the same execution twice in a row', () => {
    const { follow, heard } = follower();
    follow.change('idle', undefined);
    follow.read({ state: 'idle' });
    follow.change('syncing', 'a');
    follow.change('syncing', 'a');
    follow.change('syncing', 'b');
    expect(heard).toEqual(['idle', 'syncing a', 'syncing b']);
  });

  it('tells the held changes as they came when the read failed, and ignores a read after that', () => {
    const { follow, heard } = follower();
    follow.change('syncing', 'a');
    follow.unread();
    follow.read({ state: 'idle' });
    follow.change('executing', 'a');
    expect(heard).toEqual(['syncing a', 'executing a']);
  });

  it('holds changes again for a new read (the connection back), telling its state only when it is news', () => {
    const { follow, heard } = follower();
    follow.read({ state: 'idle' });
    follow.change('syncing', 'a');
    follow.change('executing', 'a');
    // Cut off while execution a ended and b began; back, the state is read again.
    follow.reread();
    follow.change('executing', 'b');
    expect(heard).toEqual(['idle', 'syncing a', 'executing a']);
    follow.read({ state: 'syncing', executionId: 'b' });
    expect(heard).toEqual(['idle', 'syncing a', 'executing a', 'syncing b', 'executing b']);
    // A read that finds what was told last tells nothing.
    follow.reread();
    follow.read({ state: 'executing', executionId: 'b' });
    expect(heard).toHaveLength(5);
  });
});
