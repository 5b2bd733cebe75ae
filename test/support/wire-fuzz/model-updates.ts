/**
 * A successful reply, applied to the model: what it says was written becomes the expected state, after checking it
 * against what was sent and what the model held (a write of a locked variable by another owner, a define of a name
 * that exists, a compare-and-set at the wrong version must not succeed). Returns the variable events it implies.
 * @module
 */
import { canonical } from './json-text.js';
import type { Report } from './deviations.js';
import { storedValue, variableOf, type FuzzModel, type ModelVariable } from './model.js';

/** A variable event a successful write must have published. */
export interface ExpectedEvent {
  readonly name: string;
  readonly version: number;
  readonly deleted?: boolean;
  /** The value as encoded in the event. */
  readonly value?: unknown;
  readonly updatedBy: unknown;
}

/** A successful reply to apply: its operation, the payload the node read, the result, the ids in its subject. */
export interface Success {
  readonly operation: string;
  readonly sid: string;
  readonly sent: Record<string, any>;
  readonly result: any;
  readonly mid?: string;
  /** A garbage header may have sent the read to a lagging moment: reads are then not compared. */
  readonly headerMutated: boolean;
  readonly label: string;
}

const short = (value: unknown, length = 100): string => canonical(value).slice(0, length);
const unlockedFor = (known: ModelVariable, by: unknown): boolean => known.lockedBy === null || known.lockedBy === by;

/** Applies `success` to `model`, reporting what contradicts the model; returns the events it implies. */
export function applySuccess(model: FuzzModel, success: Success, report: Report): ExpectedEvent[] {
  const { operation, sent, result: res, label } = success;
  const vars = model.variables;
  const by = sent.updatedBy ?? null;
  const expected: ExpectedEvent[] = [];
  switch (operation) {
    case 'open':
      model.sessions.add(success.sid);
      model.incarnations.set(success.sid, res.incarnation);
      break;
    case 'delete':
      model.sessions.delete(success.sid);
      break;
    case 'var.define': {
      if (vars.has(res.name)) report(`define of existing '${res.name}' succeeded: ${label}`);
      if (res.name !== sent.name || res.version !== 1) report(`define answered ${short(res, 200)}: ${label}`);
      if (canonical(res.value) !== canonical(storedValue(res.type, sent.value))) {
        report(`define stored ${short(res.value)} for sent ${short(sent.value)}: ${label}`);
      }
      const metadata = sent.options?.metadata;
      if (metadata !== undefined && canonical(res.metadata) !== canonical(metadata)) {
        report(`define metadata ${short(res.metadata)} for sent ${short(metadata)}: ${label}`);
      }
      vars.set(res.name, { type: res.type, value: res.value, version: 1, id: res.id, lockedBy: null });
      expected.push({ name: res.name, version: 1, value: res.value, updatedBy: null });
      break;
    }
    case 'var.set':
    case 'var.rollback': {
      const known = vars.get(res.name);
      if (!known) report(`${operation} of unknown '${res.name}' succeeded: ${label}`);
      else {
        if (res.version !== known.version + 1) {
          report(`${operation} answered version ${res.version}, model ${known.version}: ${label}`);
        }
        if (!unlockedFor(known, sent.updatedBy)) {
          report(`${operation} by ${sent.updatedBy} of a variable locked by ${known.lockedBy} succeeded: ${label}`);
        }
        if (operation === 'var.set') {
          if (canonical(res.value) !== canonical(storedValue(known.type, sent.value))) {
            report(`set stored ${short(res.value)} for sent ${short(sent.value)}: ${label}`);
          }
          // An expectedVersion sent as null is read as left out (docs/protocol.md, Conventions): no condition.
          if (
            sent.expectedVersion !== undefined &&
            sent.expectedVersion !== null &&
            sent.expectedVersion !== known.version
          ) {
            report(`set with expectedVersion ${sent.expectedVersion} at version ${known.version} succeeded: ${label}`);
          }
        }
      }
      vars.set(res.name, variableOf(res));
      expected.push({ name: res.name, version: res.version, value: res.value, updatedBy: by });
      break;
    }
    case 'var.lock':
    case 'var.unlock': {
      const known = vars.get(res.name);
      if (known && known.version !== res.version) report(`${operation} changed version: ${label}`);
      vars.set(res.name, variableOf(res));
      break;
    }
    case 'var.delete': {
      const known = vars.get(sent.name);
      if (!known) report(`delete of unknown '${sent.name}' succeeded: ${label}`);
      else {
        if (!unlockedFor(known, sent.updatedBy)) {
          report(`delete by ${sent.updatedBy} of a variable locked by ${known.lockedBy} succeeded: ${label}`);
        }
        expected.push({ name: sent.name, version: known.version + 1, deleted: true, updatedBy: by });
      }
      vars.delete(sent.name);
      break;
    }
    case 'var.setMany': {
      const values: Record<string, unknown> = sent.values ?? {};
      const answered = Object.keys(res).sort();
      if (canonical(answered) !== canonical(Object.keys(values).sort())) {
        report(`setMany answered names ${canonical(answered)} for ${canonical(Object.keys(values))}: ${label}`);
      }
      for (const [name, outcome] of Object.entries<any>(res)) {
        if (!outcome?.ok) continue;
        const known = vars.get(name);
        if (!known) {
          report(`setMany wrote unknown '${name}': ${label}`);
          continue;
        }
        if (outcome.version !== known.version + 1) {
          report(`setMany '${name}' version ${outcome.version}, model ${known.version}: ${label}`);
        }
        if (!unlockedFor(known, sent.updatedBy)) {
          report(`setMany by ${sent.updatedBy} of '${name}' locked by ${known.lockedBy} succeeded: ${label}`);
        }
        known.version = outcome.version;
        known.value = storedValue(known.type, values[name]);
        expected.push({ name, version: outcome.version, value: known.value, updatedBy: by });
      }
      break;
    }
    case 'var.import': {
      const records: any[] = sent.records ?? [];
      if (res !== records.length) report(`import answered ${res} for ${records.length} records: ${label}`);
      for (const record of records) {
        const known = vars.get(record.name);
        if (known && !sent.replace) report(`import without replace over '${record.name}' succeeded: ${label}`);
        if (known && !unlockedFor(known, sent.updatedBy)) {
          report(`import by ${sent.updatedBy} over '${record.name}' locked by ${known.lockedBy} succeeded: ${label}`);
        }
        const value = storedValue(record.type, record.value);
        const version = known ? known.version + 1 : 1;
        vars.set(record.name, { type: record.type, value, version, id: known?.id, lockedBy: known?.lockedBy ?? null });
        expected.push({ name: record.name, version, value, updatedBy: by });
      }
      break;
    }
    case 'module.create':
      if (success.mid) {
        if (model.modules.has(success.mid)) report(`create of existing module '${success.mid}' succeeded: ${label}`);
        model.modules.add(success.mid);
      }
      break;
    case 'module.stop':
      if (success.mid) {
        if (!model.modules.has(success.mid)) report(`stop of unknown module '${success.mid}' succeeded: ${label}`);
        model.modules.delete(success.mid);
      }
      break;
    case 'var.get': {
      const known = vars.get(sent.name);
      if (
        !success.headerMutated &&
        known &&
        (res.version !== known.version || canonical(res.value) !== canonical(known.value))
      ) {
        const model = `v${known.version} ${short(known.value, 80)}`;
        report(`get answered v${res.version} ${short(res.value, 80)}, model ${model}: ${label}`);
      }
      break;
    }
    case 'var.has':
      if (!success.headerMutated && typeof sent.name === 'string' && res !== vars.has(sent.name)) {
        report(`has answered ${res}: ${label}`);
      }
      break;
  }
  return expected;
}
