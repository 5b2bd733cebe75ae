/**
 * The `tether` executable: `npm run tether -- <command>` in a checkout, `tether <command>` once linked (see
 * bin/tether.js). `tether --help` lists the commands.
 * @module
 */
import { runCli } from './cli.js';

const code = await runCli(process.argv.slice(2));
// A failed write to stdout may have set it already (see processIo): a command that succeeded does not undo that.
if (code !== 0 || process.exitCode === undefined) process.exitCode = code;
// Everything a command opened is closed by now, so Node exits by itself; this only guards against a handle some
// library left behind, which would otherwise keep a finished command hanging. Unref'd: it never delays an exit.
setTimeout(() => process.exit(process.exitCode), 2_000).unref();
