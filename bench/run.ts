/**
 * `npm run bench`: every benchmark, each printing our figure beside a raw baseline measured in the same run.
 * @module
 */
import { execFileSync } from 'node:child_process';
import { benchModuleBacklog } from './module-backlog.js';
import { benchModuleOverhead } from './module-overhead.js';
import { benchNats } from './nats.js';
import { benchScript, buildName, loaderArgs } from './own-build.js';
import { benchSessionOps } from './session-ops.js';

function section(lines: readonly string[]): void {
  console.log(lines.join('\n'));
  console.log();
}

// `npm run bench` runs the output of tsc, as the npm package ships it; run through tsx, every function would also
// pay esbuild's keepNames wrapper each time it is created.
console.log(`Tether benchmarks — node ${process.version}, ${buildName}, ${new Date().toISOString()}\n`);
section(await benchSessionOps());
section(await benchModuleOverhead());
section(await benchModuleBacklog());
section(await benchNats());

// The heap benchmarks get a process each, so their figures are not mixed with the other benchmarks'.
for (const name of ['session-scale', 'process-hibernation']) {
  const args = ['--expose-gc', ...loaderArgs, benchScript(name)];
  const printed = execFileSync(process.execPath, args, { encoding: 'utf8' }).trimEnd();
  // A bench that ran nothing must fail the run, not leave its section blank.
  if (printed === '') throw new Error(`bench/${name} printed no figures`);
  section([printed]);
}
