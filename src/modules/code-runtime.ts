/**
 * The runtime ProgramOfThought runs its generated code in: Ax's `AxJSRuntime`, whose workers run under Node's
 * permission model. On Node 20 to 23.4 that model is still `--experimental-permission`, and each worker Ax starts
 * (at least one per execution: a used worker is replaced) printed Node's "Permission is an experimental feature"
 * warning, two lines on the service's stderr for every execution.
 *
 * Those workers also get `--disable-warning=ExperimentalWarning`. It silences that kind of warning inside the
 * worker only and changes nothing of the sandbox: the permission flags stay as Ax computes them. Ax has one seam for
 * the workers' flags, its `computeNodeExecArgv` (private in its types), which is wrapped on this one instance.
 * Where the seam or the flag is missing (another Ax, a Node before 20.11), the runtime is Ax's, unchanged.
 *
 * Each worker's JavaScript heap is bounded ({@link PROGRAM_HEAP_MB}): without a bound it inherits the process's, and a
 * generated program that grows an array without end took the service to 4 GB before Node ended the worker, so a few
 * at once could get the whole process killed. Past the bound the worker ends (`ERR_WORKER_OUT_OF_MEMORY`), the model
 * is told, and the module serves on. Memory outside the heap (`Buffer`s) is not bounded by it: only a limit on the
 * process (a container's, a cgroup's) bounds that.
 * @module
 */
import { AxJSRuntime } from '@ax-llm/ax';

const EXPERIMENTAL_PERMISSION = '--experimental-permission';
const QUIET = '--disable-warning=ExperimentalWarning';

/** What is read of the runtime's private seam: the Node flags of the workers it starts. */
interface ExecArgvSeam {
  computeNodeExecArgv?: () => string[] | undefined;
}

/** The JavaScript heap a worker running a generated program may take, in MiB (see the module comment). */
export const PROGRAM_HEAP_MB = 256;

/** A new code runtime for one ProgramOfThought execution (see the module comment). */
export function createCodeRuntime(): AxJSRuntime {
  const runtime = new AxJSRuntime({ resourceLimits: { maxOldGenerationSizeMb: PROGRAM_HEAP_MB } });
  const seam = runtime as unknown as ExecArgvSeam;
  const compute = seam.computeNodeExecArgv;
  if (typeof compute !== 'function' || !process.allowedNodeEnvironmentFlags.has('--disable-warning')) return runtime;
  seam.computeNodeExecArgv = () => {
    const argv = compute.call(runtime);
    return argv?.includes(EXPERIMENTAL_PERMISSION) ? [...argv, QUIET] : argv;
  };
  return runtime;
}
