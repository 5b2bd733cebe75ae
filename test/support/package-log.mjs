// Preload for a child node process that tells which packages it loads: `node --import ./test/support/package-log.mjs …`
// with PACKAGE_LOG set to a file, to which the name of every package an import resolves to is appended, one per line
// (once per import of it), before the import goes on: by the time the process exits, the file is complete.
import { register } from 'node:module';

register('./package-log-hooks.mjs', import.meta.url);
