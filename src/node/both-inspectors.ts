/**
 * A runtime's inspector: the user's and the NATS node's as one.
 * @module
 */
import type { InspectionEvent } from 'xstate';
import { withPlainSessionSnapshots } from '../nats/inspection.js';
import type { RuntimeOptions } from './runtime-options.js';

/**
 * The user's inspector and the NATS node's, as one (either may be absent). The user's sees every event even if
 * publishing one failed (`report` is told), and what it returns goes back: an async inspector's rejection is reported
 * as its throw is.
 */
export function bothInspectors(
  user: RuntimeOptions['inspect'],
  node: ((event: InspectionEvent) => void) | undefined,
  report: (error: unknown, where: string) => void,
): ((event: InspectionEvent) => unknown) | undefined {
  const next = user ? withPlainSessionSnapshots(user) : undefined;
  if (!next || !node) return next ?? node;
  return (event: InspectionEvent) => {
    try {
      node(event);
    } catch (error) {
      report(error, 'inspection');
    }
    return next(event);
  };
}
