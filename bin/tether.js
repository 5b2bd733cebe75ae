#!/usr/bin/env node
// The `tether` executable of package.json "bin". It runs the TypeScript CLI (src/cli/main.ts) through tsx's
// loader: a checkout and the Docker image run the sources as they are, with no build step that could leave a
// stale dist/ behind. tsx is a dev dependency, so this needs `npm ci` (not `npm ci --omit=dev`).
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
