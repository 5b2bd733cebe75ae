import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = new URL('..', import.meta.url).pathname;
let installed: string;

/**
 * The layout of an installed package: package.json, bin/ and the compiled dist/ (what "files" ships, with the
 * protocol's document), no sources, and the dependencies beside it.
 */
beforeAll(async () => {
  installed = await mkdtemp(join(tmpdir(), 'tether-package-'));
  const manifest = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { files: string[] };
  expect(manifest.files.sort()).toEqual(['bin', 'dist/machines', 'dist/src', 'docs/protocol.md']);
  // A version of its own, to tell the installed package.json from the checkout's.
  const installedManifest = {
    ...JSON.parse(await readFile(join(root, 'package.json'), 'utf8')),
    version: '9.8.7-installed',
  };
  await writeFile(join(installed, 'package.json'), JSON.stringify(installedManifest));
  await cp(join(root, 'bin'), join(installed, 'bin'), { recursive: true });
  await run(process.execPath, [
    join(root, 'node_modules/typescript/bin/tsc'),
    '-p',
    join(root, 'tsconfig.build.json'),
    '--outDir',
    join(installed, 'dist'),
  ]);
  await symlink(join(root, 'node_modules'), join(installed, 'node_modules'), 'dir');
}, 120_000);

afterAll(async () => {
  if (installed) await rm(installed, { recursive: true, force: true });
});

describe('the type declarations of an installed package', () => {
  it("type one function for a handle of either kind, and keep the runtime's own members out of sight", async () => {
    // Inside the package, `tether` names it (a package's self-reference through its "exports").
    await writeFile(
      join(installed, 'consumer.mts'),
      [
        "import { Runtime, connect, type ModuleApi, type SessionApi } from 'tether';",
        'async function tune(session: SessionApi): Promise<ModuleApi> {',
        "  await session.setVariable('t', 0.5);",
        "  return session.module('qa');",
        '}',
        "const local = await tune(await (await Runtime.start()).session('a'));",
        "const remote = await tune(await (await connect({ servers: 'nats://127.0.0.1:4222' })).session('a'));",
        'export const handles: ModuleApi[] = [local, remote];',
        "const handle = await (await (await Runtime.start()).session('a')).module('qa');",
        '// @ts-expect-error the runtime attaches processes to handles; users do not',
        'handle.attach;',
        '',
      ].join('\n'),
    );
    await writeFile(
      join(installed, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          target: 'ES2022',
          lib: ['ES2023'],
          types: ['node'],
          noEmit: true,
          skipLibCheck: true,
        },
        files: ['consumer.mts'],
      }),
    );
    const checked = await run(process.execPath, [
      join(root, 'node_modules/typescript/bin/tsc'),
      '-p',
      join(installed, 'tsconfig.json'),
    ]).then(
      () => 'ok',
      (error: { stdout: string }) => error.stdout,
    );
    expect(checked).toBe('ok');
  }, 60_000);
});

describe('the tether executable of an installed package', () => {
  it('runs the compiled CLI with plain Node, without the sources', async () => {
    const { stdout } = await run(process.execPath, [join(installed, 'bin/tether.js'), 'var', '--help']);
    expect(stdout).toContain('Usage: tether var <command>');
  });

  it("reads the installed package.json's version, which its nodes announce as their $SRV version", async () => {
    // The compiled module sits deeper (dist/src/) than the source (src/): the same lookup finds the package's own.
    const compiled = (await import(pathToFileURL(join(installed, 'dist/src/package-version.js')).href)) as {
      packageVersion(): string;
    };
    expect(compiled.packageVersion()).toBe('9.8.7-installed');
  });

  it('exits non-zero with one line on a bad command, as from a checkout', async () => {
    const failure = await run(process.execPath, [join(installed, 'bin/tether.js'), 'no-such-command']).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure?.code).toBe(2);
    expect(failure?.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('says in one line that a package packed without its build has nothing to run', async () => {
    const unbuilt = await mkdtemp(join(tmpdir(), 'tether-unbuilt-'));
    try {
      await cp(join(root, 'bin'), join(unbuilt, 'bin'), { recursive: true });
      await cp(join(root, 'package.json'), join(unbuilt, 'package.json'));
      const failure = await run(process.execPath, [join(unbuilt, 'bin/tether.js'), '--help']).then(
        () => undefined,
        (error: { code: number; stderr: string }) => error,
      );
      expect(failure?.code).toBe(1);
      expect(failure?.stderr.trim().split('\n')).toEqual([
        'tether: this installation has neither src/ nor a compiled dist/ (run `npm run build` before `npm pack`)',
      ]);
    } finally {
      await rm(unbuilt, { recursive: true, force: true });
    }
  });
});
