/**
 * What the README's `npm run build && npm pack` makes of a checkout: the compiled library (dist/src, dist/machines),
 * bin/, README.md and package.json, nothing else, however dist/ was left before; its source maps carry their sources.
 * Found in review: a dist/ compiled by the project tsconfig shipped the tests and benchmarks (1,143 files more), and
 * every map pointed at a .ts file the package does not hold. (The project's .npmrc turns lifecycle scripts off, so no
 * `prepack` can build for a bare `npm pack`.)
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, normalize } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const run = promisify(execFile);
const root = new URL('..', import.meta.url).pathname;

/** The library's own files: what an installed package needs at run time and for its types. */
const shipped = (path: string): boolean =>
  path === 'package.json' ||
  path === 'README.md' ||
  path.startsWith('bin/') ||
  path.startsWith('dist/src/') ||
  path.startsWith('dist/machines/');

it('ships the library alone, its maps with their sources', async () => {
  const work = await mkdtemp(join(tmpdir(), 'tether-pack-'));
  const checkout = join(work, 'checkout');
  try {
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
    const files = report.files.map((file) => file.path);
    for (const needed of ['dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/cli/main.js', 'bin/tether.js'])
      expect(files).toContain(needed);
    expect(files.some((path) => path.startsWith('dist/machines/'))).toBe(true);
    expect(files.filter((path) => !shipped(path))).toEqual([]);

    await run('tar', ['-xzf', join(work, report.filename), '-C', work]);
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
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}, 180_000);
