#!/usr/bin/env node
// The `tether` executable of package.json "bin". From a checkout (src/ beside bin/) it runs the TypeScript CLI
// through tsx's loader, so a checkout and the Docker image run the sources as they are, with no build step that
// could leave a stale dist/ behind (tsx is a dev dependency there). An installed package ships no sources, only
// the compiled dist/ (`npm run build` before `npm pack`), and runs that with plain Node.
import { existsSync } from 'node:fs';

const sources = new URL('../src/cli/main.ts', import.meta.url);
if (existsSync(sources)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(sources.href);
} else {
  await import('../dist/src/cli/main.js');
}
