/**
 * The `tether` executable: `npm run tether -- <command>` in a checkout, `tether <command>` once linked (see
 * bin/tether.js). `tether --help` lists the commands.
 * @module
 */
import { runCli } from './cli.js';

/**
 * Resolves once what was written to `stream` has gone to the OS, or failed to: a failure's `error` handler (see
 * processIo) runs a turn after the write's callback, and has run too.
 */
function written(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (stream.destroyed || !stream.writable) return resolve();
    stream.write('', () => setImmediate(resolve));
  });
}

const code = await runCli(process.argv.slice(2));
// A failed write to stdout may have set it already (see processIo): a command that succeeded does not undo that.
if (code !== 0 || process.exitCode === undefined) process.exitCode = code;
// Everything a command opened is closed by now, yet a library may have left a handle behind (nats.js kept the socket
// of a connect that timed out on a server that never answered, until closing-transport.ts). The command is over once
// its output is out, however late its reader takes it (a pager): no timer cuts it short.
await Promise.all([written(process.stdout), written(process.stderr)]);
process.exit(process.exitCode);
