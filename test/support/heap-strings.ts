/**
 * How many strings of a form this process still has alive, read from a V8 heap snapshot: for tests that check a node
 * lets go of data it read (where a `WeakRef` has no object of the test's to watch).
 * @module
 */
import { getHeapSnapshot } from 'node:v8';
import { collectGarbage } from './collect-garbage.js';

/**
 * The live strings of this process that `pattern` matches, after a full collection. The test's own code is live too,
 * its string literals included: pick a pattern that only the data matches (a marker's literal is no option built from
 * it). Nor may the test hold such strings itself: make them in a function that has returned (an async function's
 * frame keeps its locals while it awaits). Takes about a second: a snapshot of the whole heap is written and parsed.
 * @example
 * expect(await liveStrings(/^CHOICE\d+-\d+-o+$/)).toBe(0);
 */
export async function liveStrings(pattern: RegExp): Promise<number> {
  // A collection in a task of its own: what the caller's last task made or read is kept until that task ends.
  await new Promise((resolve) => setTimeout(resolve, 0));
  collectGarbage();
  const chunks: Buffer[] = [];
  for await (const chunk of getHeapSnapshot()) chunks.push(chunk as Buffer);
  const { strings } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { strings: string[] };
  return strings.filter((text) => pattern.test(text)).length;
}
