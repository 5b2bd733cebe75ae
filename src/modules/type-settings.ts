/**
 * Settings a module type would ignore are refused: a spec of a fixed type that gives one only some types read (tools
 * for Predict, `samples` for ChainOfThought) would otherwise run without it and say nothing. A spec with a type
 * variable may give any of them, for whichever type the variable selects.
 * @module
 */
import { ValidationError } from '../errors.js';
import type { ModuleRegistry, RegisteredModule } from './module-registry.js';
import type { ModuleSpec } from './module-spec.js';
import { TYPE_SETTINGS, type TypeSetting } from './programs.js';

/** Where `spec` gives `setting`: as a key (tools only when there is at least one) or as a binding. */
function givenAt(spec: ModuleSpec, setting: TypeSetting): string | undefined {
  const given = setting === 'tools' ? (spec.tools?.length ?? 0) > 0 : spec[setting] !== undefined;
  if (given) return setting;
  // Bindings as the runtime reads them: a JavaScript caller's may name any setting.
  const bindings: Readonly<Record<string, unknown>> | undefined = spec.bindings;
  return bindings?.[setting] !== undefined ? `bindings.${setting}` : undefined;
}

/**
 * Throws unless every type setting `spec` gives is one its type `entry` reads. A type whose class declares no `uses`
 * of its own (a user's) is not judged.
 * @throws {ValidationError} naming the setting, the type and the registered types that read it
 */
export function assertSettingsApply(entry: RegisteredModule, spec: ModuleSpec, registry: ModuleRegistry): void {
  const { uses } = entry;
  if (uses === undefined) return;
  for (const setting of TYPE_SETTINGS) {
    const field = givenAt(spec, setting);
    if (field === undefined || uses.includes(setting)) continue;
    const usedBy = registry.names().filter((name) => registry.resolve(name).uses?.includes(setting));
    throw new ValidationError(
      `module type ${entry.name} does not use ${setting} (${usedBy.join(', ')} ${usedBy.length === 1 ? 'does' : 'do'}): ` +
        'leave it out, or give the spec a typeVariable to switch between types',
      { details: { field, moduleType: entry.name, usedBy } },
    );
  }
}
