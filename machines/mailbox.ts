/**
 * A module process's mailbox: its queued executions in arrival order, keyed by execution id (the module refuses an
 * `execute` whose id one queued or running has already), as a {@link PersistentQueue}.
 * @module
 */
import type { Execution } from './module.types.js';
import { PersistentQueue } from './persistent-queue.js';

/** The queued executions of a module process, oldest first. */
export type Mailbox = PersistentQueue<Execution>;

const executionIdOf = (execution: Execution): string => execution.executionId;

/** An empty mailbox. */
export function emptyMailbox(): Mailbox {
  return PersistentQueue.empty(executionIdOf);
}
