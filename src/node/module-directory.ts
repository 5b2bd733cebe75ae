/**
 * The module processes of a node: their programs by key, their processes in the registry as
 * `tether.module.<session>.<module>`, and their handles.
 * @module
 */
import { AlreadyExistsError, NoProcError } from '../errors.js';
import type { LanguageModel } from '../modules/language-model.js';
import { ModuleHandle, type ModuleHandleDeps } from '../modules/module-handle.js';
import { ModuleInstance } from '../modules/module-instance.js';
import { createModuleLogic, moduleKey, type ModuleLogic } from '../modules/module-logic.js';
import { assertModuleId, assertModuleSpec } from '../modules/module-spec.js';
import type { ProcessRef } from '../runtime/process.js';
import type { SessionContext } from '../session/session-context.js';
import type { SessionModules } from '../session/session-modules.js';

/** The registry name of a module process. */
export function moduleProcessName(sessionId: string, moduleId: string): string {
  return `tether.module.${sessionId}.${moduleId}`;
}

/** Starts, finds and stops a node's module processes. */
export class ModuleDirectory implements SessionModules {
  readonly #instances = new Map<string, ModuleInstance>();
  readonly #handles = new Map<string, ModuleHandle>();
  /** Keys of modules being built, so two concurrent creations of one id cannot both succeed. */
  readonly #starting = new Set<string>();
  readonly #logic: ModuleLogic;

  constructor(
    private readonly deps: ModuleHandleDeps,
    private readonly llm: LanguageModel,
  ) {
    this.#logic = createModuleLogic(this.#instances);
  }

  async create(session: SessionContext, moduleId: string, spec: unknown): Promise<ModuleHandle> {
    assertModuleId(moduleId);
    assertModuleSpec(spec);
    const key = moduleKey(session.sessionId, moduleId);
    if (this.#handles.has(key) || this.#starting.has(key)) throw new AlreadyExistsError('module', moduleId, { details: { sessionId: session.sessionId } });
    this.#starting.add(key);
    try {
      const instance = await ModuleInstance.create(moduleId, session, spec, { llm: this.llm });
      this.#instances.set(key, instance);
      const process: ProcessRef<ModuleLogic> = this.deps.processes.spawn(this.#logic, {
        name: moduleProcessName(session.sessionId, moduleId),
        input: { moduleId, sessionId: session.sessionId, moduleType: instance.moduleType },
      });
      const handle = new ModuleHandle(moduleId, session.sessionId, process, this.deps);
      this.#handles.set(key, handle);
      void process.exited.then(() => {
        this.#handles.delete(key);
        this.#instances.delete(key);
      });
      return handle;
    } finally {
      this.#starting.delete(key);
    }
  }

  get(sessionId: string, moduleId: string): ModuleHandle {
    const handle = this.#handles.get(moduleKey(sessionId, moduleId));
    if (!handle) throw new NoProcError(moduleProcessName(sessionId, moduleId));
    return handle;
  }

  list(sessionId: string): ModuleHandle[] {
    return [...this.#handles.values()].filter((handle) => handle.sessionId === sessionId);
  }

  /** Stops every module of a session (it expired or was stopped). */
  async stopSession(sessionId: string): Promise<void> {
    await Promise.all(this.list(sessionId).map((handle) => handle.stop()));
  }
}
