/**
 * A node stopping cleanly unsubscribes its modules' forward subjects before it gives up their claims. An execution
 * passed on meanwhile hears no responders while the claim still names the node, and is sent again, as for an owner
 * whose connection is coming back. Once the claim is gone nobody is coming: the execution fails `module_not_found`
 * then, not at the end of the 6 s kept for a reconnecting owner (found in review: the claim was read once, so every
 * such execution of a rolling restart waited out the whole grace).
 */
import { describe, expect, it } from 'vitest';
import { ModuleNotFoundError } from '../../src/index.js';
import { createModuleForward } from '../../src/nats/module-forward.js';
import { createSubjects } from '../../src/nats/subjects.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);

describe('an execution passed on to a node-local module nobody subscribes for', () => {
  it('is sent again while the claim names its node, and fails module_not_found at the first read that finds it gone', async () => {
    // The claim names the owner twice (it is stopping), then it has been given up.
    const claims = ['OwnerNode1', 'OwnerNode1', undefined];
    let reads = 0;
    const ownerOf = async (): Promise<string | undefined> => claims[Math.min(reads++, claims.length - 1)];
    const forward = createModuleForward(nc(), createSubjects(), undefined, ownerOf);

    const error = await forward
      .execute('s1', 'local', { inputs: { question: 'q' }, executionId: 'x1', timeoutMs: 30_000 }, undefined)
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ModuleNotFoundError);
    expect(error).toMatchObject({ code: 'module_not_found', details: { sessionId: 's1', moduleId: 'local' } });
    // Read before each retry, and no more once it was gone.
    expect(reads).toBe(3);
  });
});
