/**
 * `npm run bench`: every benchmark, each printing our figure beside a raw baseline measured in the same run.
 * @module
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { benchModuleOverhead } from './module-overhead.js';
import { benchNats } from './nats.js';
import { benchSessionOps } from './session-ops.js';

function section(lines: readonly string[]): void {
  console.log(lines.join('\n'));
  console.log();
}

console.log(`Tether benchmarks — node ${process.version}, ${new Date().toISOString()}\n`);
section(await benchSessionOps());
section(await benchModuleOverhead());
section(await benchNats());

// The heap benchmarks get a process each, so their figures are not mixed with the other benchmarks'.
for (const file of ['./session-scale.ts', './process-hibernation.ts']) {
  const script = fileURLToPath(new URL(file, import.meta.url));
  section([execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', script], { encoding: 'utf8' }).trimEnd()]);
}
