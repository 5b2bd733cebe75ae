/**
 * What the README's `npm run build && npm pack` makes of a checkout: the compiled library (dist/src, dist/machines),
 * bin/, README.md, docs/protocol.md (which the README links to) and package.json, nothing else, however dist/ was left
 * before; its source maps carry their sources. Found in review: a dist/ compiled by the project tsconfig shipped the tests and benchmarks (1,143 files more), and
 * every map pointed at a .ts file the package does not hold. (The project's .npmrc turns lifecycle scripts off, so no
 * `prepack` can build for a bare `npm pack`.) And what a strict TypeScript service that installed the tarball can
 * compile against it: found in review, the shipped declarations typed the variable-aware classes' `attachSession` and
 * `setSyncErrorHandler` as returning `any`.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, normalize } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';

const run = promisify(execFile);
const root = new URL('..', import.meta.url).pathname;

/** The library's own files: what an installed package needs at run time and for its types, and its documents. */
const shipped = (path: string): boolean =>
  path === 'package.json' ||
  path === 'README.md' ||
  path === 'docs/protocol.md' ||
  path.startsWith('bin/') ||
  path.startsWith('dist/src/') ||
  path.startsWith('dist/machines/');

let work: string;
/** The files `npm pack` put in the tarball, and where it was extracted (`<work>/package`). */
let files: string[];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'tether-pack-'));
  const checkout = join(work, 'checkout');
  // The checkout's tracked files as they are now, as a clone would have them, with its dependencies beside.
  await mkdir(checkout);
  await run('sh', ['-c', `git ls-files -z | tar --null -T - -cf - | tar -x -C '${checkout}'`], { cwd: root });
  await symlink(join(root, 'node_modules'), join(checkout, 'node_modules'), 'dir');
  // Left over from other builds: what a pack must neither ship nor take for the library.
  await mkdir(join(checkout, 'dist/test'), { recursive: true });
  await writeFile(join(checkout, 'dist/test/left-over.test.js'), '');
  // The project tsconfig emits nothing (only the build config does).
  await run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], {
    cwd: checkout,
  });

  await run('npm', ['run', '-s', 'build'], { cwd: checkout });
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', work], {
    cwd: checkout,
    maxBuffer: 64 * 1024 * 1024,
  });
  const [report] = JSON.parse(stdout) as [{ filename: string; files: { path: string }[] }];
  files = report.files.map((file) => file.path);
  await run('tar', ['-xzf', join(work, report.filename), '-C', work]);
}, 180_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

it('ships the library alone, its maps with their sources', async () => {
  for (const needed of ['dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/cli/main.js', 'bin/tether.js'])
    expect(files).toContain(needed);
  expect(files.some((path) => path.startsWith('dist/machines/'))).toBe(true);
  expect(files.filter((path) => !shipped(path))).toEqual([]);

  const dangling: string[] = [];
  for (const map of files.filter((path) => path.endsWith('.js.map'))) {
    const { sources, sourcesContent } = JSON.parse(await readFile(join(work, 'package', map), 'utf8')) as {
      sources: string[];
      sourcesContent?: (string | null)[];
    };
    sources.forEach((source, i) => {
      if (typeof sourcesContent?.[i] !== 'string' && !files.includes(normalize(join(dirname(map), source))))
        dangling.push(`${map} -> ${source}`);
    });
  }
  expect(dangling.slice(0, 3)).toEqual([]);
});

it('ships the files its README links to', async () => {
  // The README an installed package holds (node_modules/tether/README.md, the npm page) points at the wire protocol,
  // whose fields, errors and results it leaves to that document.
  const readme = await readFile(join(work, 'package/README.md'), 'utf8');
  const linked = [...readme.matchAll(/\]\(([^)#:]+)(?:#[^)]*)?\)/g)].map((match) => normalize(match[1] ?? ''));
  expect(linked).toContain('docs/protocol.md');
  expect([...new Set(linked)].filter((path) => !files.includes(path))).toEqual([]);
});

/** The tsconfig of a strict TypeScript service that installed the package, for `moduleResolution`. */
const consumerConfig = (moduleResolution: 'nodenext' | 'bundler'): string =>
  JSON.stringify({
    compilerOptions: {
      target: 'ES2022',
      module: moduleResolution === 'bundler' ? 'esnext' : 'nodenext',
      moduleResolution,
      strict: true,
      exactOptionalPropertyTypes: true,
      noUncheckedIndexedAccess: true,
      // Tether's own declarations are read all the same; what this skips is checking nats's and xstate's, which
      // do not hold under exactOptionalPropertyTypes themselves.
      skipLibCheck: true,
      noEmit: true,
      types: ['node'],
    },
    include: ['*.ts'],
  });

it('types a strict service that installed it: the README examples and the variable-aware classes', async () => {
  // A service beside the extracted package, `tether` installed in its node_modules; the package's own dependencies
  // (and @types/node) come from the checkout's node_modules, as npm would put them beside it.
  const service = join(work, 'service');
  await mkdir(join(service, 'node_modules'), { recursive: true });
  await symlink(join(root, 'node_modules'), join(work, 'node_modules'), 'dir');
  await symlink(join(work, 'package'), join(service, 'node_modules/tether'), 'dir');
  await writeFile(join(service, 'package.json'), JSON.stringify({ type: 'module', private: true }));

  // The README's examples as shipped, unchanged; one that goes on from the first (no import) gets its `session`.
  const readme = await readFile(join(work, 'package/README.md'), 'utf8');
  const examples = [...readme.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((match) => match[1] ?? '');
  expect(examples.length).toBeGreaterThanOrEqual(3);
  for (const [i, example] of examples.entries()) {
    const preamble = /^import /m.test(example)
      ? ''
      : "import type { Session } from 'tether';\ndeclare const session: Session;\n";
    await writeFile(join(service, `readme-${i + 1}.ts`), preamble + example);
  }
  // What a user writes with the variable-aware classes: a method that returns the module is typed as the module.
  await writeFile(
    join(service, 'variable-aware.ts'),
    [
      "import { ModuleVariableResolver, Predict, VariableAwareChainOfThought, VariableAwareMixin, type Session } from 'tether';",
      'declare const session: Session;',
      "const cot = new VariableAwareChainOfThought('question:string -> answer:string', {}).attachSession(session);",
      "await cot.bindToVariable('temperature', 'llm_temperature');",
      '// @ts-expect-error attachSession returns the module, not `any`',
      'cot.noSuchMethod();',
      '// @ts-expect-error so does setSyncErrorHandler',
      'cot.setSyncErrorHandler(undefined).noSuchMethod();',
      'class VariableAwareSummarize extends VariableAwareMixin(Predict) {}',
      "const summarize = new VariableAwareSummarize('document:string -> summary:string', { session });",
      "summarize.attachSession(session).getBindings()['temperature']?.toUpperCase();",
      '// @ts-expect-error a class made with the mixin too',
      'summarize.attachSession(session).noSuchMethod();',
      '// @ts-expect-error its options are checked',
      "new VariableAwareChainOfThought('question:string -> answer:string', { sesion: session });",
      '// @ts-expect-error so are its forward options (both are refused at run time too)',
      "await cot.forward({ question: 'q' }, { autoSinc: false });",
      '// @ts-expect-error and those of the resolver',
      'new ModuleVariableResolver(session, { registery: undefined });',
      '',
    ].join('\n'),
  );

  const tsc = join(root, 'node_modules/typescript/bin/tsc');
  for (const moduleResolution of ['nodenext', 'bundler'] as const) {
    await writeFile(join(service, 'tsconfig.json'), consumerConfig(moduleResolution));
    const checked = await run(process.execPath, [tsc, '-p', 'tsconfig.json', '--pretty', 'false'], {
      cwd: service,
    }).then(
      () => '',
      (error: { stdout?: string }) => error.stdout ?? String(error),
    );
    expect({ moduleResolution, errors: checked.split('\n').filter((line) => line !== '') }).toEqual({
      moduleResolution,
      errors: [],
    });
  }
}, 60_000);
