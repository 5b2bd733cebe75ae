#!/usr/bin/env node
// The `tether` executable of package.json "bin". From a checkout (src/ beside bin/) it runs the TypeScript CLI
// through tsx's loader, so a checkout runs its sources as they are, with no build step that could leave a stale
// dist/ behind (tsx is a dev dependency there). An installed package and the Docker image hold no sources, only the
// compiled dist/ (`npm run build` before `npm pack`; the image compiles its own), and run that with plain Node.
import { existsSync } from 'node:fs';

const sources = new URL('../src/cli/main.ts', import.meta.url);
const compiled = new URL('../dist/src/cli/main.js', import.meta.url);
if (existsSync(sources)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(sources.href);
} else if (existsSync(compiled)) {
  await import(compiled.href);
} else {
  // A package packed without `npm run build` first: say so in one line rather than with a module-loader trace.
  process.stderr.write(
    'tether: this installation has neither src/ nor a compiled dist/ (run `npm run build` before `npm pack`)\n',
  );
  process.exit(1);
}
