/**
 * The model against what the nodes hold, through the protocol's own lists: `var.list`, `module.list`,
 * `sessions.list`. A difference is a deviation (a write no reply admitted, or one a reply claimed and lost); the
 * model then takes the nodes' state, so one defect is reported once, not at every later check.
 * @module
 */
import type { Report } from './deviations.js';
import { canonical } from './json-text.js';
import { variableOf, type FuzzModel } from './model.js';
import { sessionSubject } from './request-builders.js';
import type { WireClient } from './wire-client.js';

/** Compares the model with the nodes; `after` names the last write, for the report. */
export interface StateChecks {
  variables(after: string): Promise<void>;
  modules(after: string): Promise<void>;
  sessions(after: string): Promise<void>;
  /** Takes the nodes' state as the model without comparing (after concurrent requests, whose order is unknown). */
  resync(): Promise<void>;
}

/** The checks of `model` through `client`. */
export function createStateChecks(client: WireClient, model: FuzzModel, report: Report): StateChecks {
  const { sid } = model;
  const listVariables = (): Promise<any[]> => client.call(sessionSubject(sid, 'var.list'), {});
  const listModules = async (): Promise<string[]> => {
    const list: { moduleId: string }[] = await client.call(sessionSubject(sid, 'module.list'), { specs: false }, true);
    return list.map((x) => x.moduleId).sort();
  };
  const listSessions = async (): Promise<string[]> =>
    (await client.call('tether.v1.sessions.list', { limit: 5000 })).ids;
  const replace = <T>(set: Set<T>, items: readonly T[]) => {
    set.clear();
    items.forEach((item) => set.add(item));
  };
  return {
    async variables(after) {
      const seen = new Set<string>();
      for (const record of await listVariables()) {
        seen.add(record.name);
        const known = model.variables.get(record.name);
        model.variables.set(record.name, variableOf(record));
        if (!known) {
          report(
            `variable '${record.name}' exists (v${record.version}) but no successful reply created it; after: ${after}`,
          );
          continue;
        }
        const problems: string[] = [];
        if (known.type !== record.type) problems.push(`type ${record.type} != model ${known.type}`);
        if (known.version !== record.version) problems.push(`version ${record.version} != model ${known.version}`);
        if (canonical(known.value) !== canonical(record.value)) {
          const value = canonical(record.value).slice(0, 200);
          problems.push(`value ${value} != model ${canonical(known.value).slice(0, 200)}`);
        }
        if (known.lockedBy !== record.lockedBy) problems.push(`lockedBy ${record.lockedBy} != model ${known.lockedBy}`);
        if (known.id !== undefined && known.id !== record.id) problems.push('id changed');
        if (problems.length) report(`variable '${record.name}': ${problems.join('; ')}; after: ${after}`);
      }
      for (const name of [...model.variables.keys()]) {
        if (seen.has(name)) continue;
        report(`variable '${name}' is gone but no successful reply deleted it; after: ${after}`);
        model.variables.delete(name);
      }
    },
    async modules(after) {
      const ids = await listModules();
      const want = [...model.modules].sort();
      if (canonical(ids) === canonical(want)) return;
      report(`modules ${canonical(ids)} != model ${canonical(want)}; after: ${after}`);
      replace(model.modules, ids);
    },
    async sessions(after) {
      const ids = await listSessions();
      const want = [...model.sessions].sort();
      if (canonical(ids) === canonical(want)) return;
      report(`sessions ${canonical(ids)} != model ${canonical(want)}; after: ${after}`);
      replace(model.sessions, ids);
    },
    async resync() {
      model.variables.clear();
      for (const record of await listVariables()) model.variables.set(record.name, variableOf(record));
      replace(model.modules, await listModules());
      replace(model.sessions, await listSessions());
      // A concurrent open may have started another life of a scratch session: learn its incarnation.
      for (const scratch of model.scratchSessions) {
        if (!model.sessions.has(scratch)) continue;
        model.incarnations.set(scratch, (await client.call(sessionSubject(scratch, 'open'), {})).incarnation);
      }
    },
  };
}
