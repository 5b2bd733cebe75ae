/**
 * `tether serve --tools`: a node loads the tools a file exports, and a ReAct module created from the CLI names them.
 * Run from this checkout (the TypeScript tools file through tsx) and from the Docker image's layout (what its
 * build stage compiles with tsconfig.image.json, run with plain Node and no sources), as docker-compose.yml runs it.
 */
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { startCli, startNode, type RunningCli } from './support/cli-process.js';
import { cliRunners, errorLines } from './support/cli-runners.js';
import { startNatsServer, type NatsTestServer } from './support/nats-server.js';
import { OpenAIStub, text, toolCall } from './support/openai-stub.js';

const run = promisify(execFile);
const root = new URL('..', import.meta.url).pathname;
const id = `${process.pid}_${Date.now()}`;
let server: NatsTestServer;
let openai: OpenAIStub;
/** The Docker image's /app: package.json, bin/, the compiled dist/ (tools included), the dependencies. */
let image: string;
const { tether, inProcess } = cliRunners(() => server.url);

beforeAll(async () => {
  server = await startNatsServer();
  openai = await OpenAIStub.start();
  image = await mkdtemp(join(tmpdir(), 'tether-image-'));
  await cp(join(root, 'package.json'), join(image, 'package.json'));
  await cp(join(root, 'bin'), join(image, 'bin'), { recursive: true });
  // The command of the Dockerfile's build stage.
  await run(process.execPath, [
    join(root, 'node_modules/typescript/bin/tsc'),
    '-p',
    join(root, 'tsconfig.image.json'),
    '--outDir',
    join(image, 'dist'),
  ]);
  await symlink(join(root, 'node_modules'), join(image, 'node_modules'), 'dir');
}, 120_000);

afterAll(async () => {
  await openai?.close();
  await server?.stop();
  if (image) await rm(image, { recursive: true, force: true });
});

/** The environment of a node on the stub provider. */
const providerEnv = (): Record<string, string> => ({
  NATS_URL: server.url,
  TETHER_AI: 'openai',
  TETHER_AI_URL: openai.url,
  TETHER_AI_KEY: 'sk-test',
});

/** Serve's options of a node of its own (prefix and buckets), so no other node of this file takes its requests. */
function ownNode(name: string): { serve: string[]; on: string[] } {
  const prefix = `tools${name}${process.pid}`;
  return {
    serve: ['--prefix', prefix, '--buckets', `${name}_vars_${id},${name}_sessions_${id},${name}_modules_${id}`],
    on: ['--session', 'planets', '--prefix', prefix],
  };
}

/** Creates a ReAct module naming the node's tool, calls it, and checks that the node ran the tool for the model. */
async function callsTheTool(node: RunningCli, on: string[]): Promise<void> {
  const created = await tether([
    'module',
    'create',
    'solver',
    '--type',
    'ReAct',
    '--signature',
    'question:string -> answer:string',
    '--tool',
    'planetFacts',
    ...on,
  ]);
  expect([created.code, created.stderr]).toEqual([0, '']);
  const asked = openai.requests.length;
  openai.reply(toolCall('planetFacts', { planet: 'Mars' }), text('Answer: Mars has 2 moons'));
  const called = await tether(['module', 'call', 'solver', '--input', 'question=How many moons has Mars?', ...on]);
  expect([called.code, called.stderr]).toEqual([0, '']);
  expect(JSON.parse(called.stdout)).toMatchObject({ output: { answer: 'Mars has 2 moons' } });
  // The node offered the tool to the model and ran it when asked (its tools file logs each call).
  const requests = openai.chatRequests.slice(asked);
  expect(requests[0]?.body.tools?.map((tool: { function: { name: string } }) => tool.function.name)).toEqual([
    'planetFacts',
  ]);
  expect(node.output.stdout).toContain('tool planetFacts("Mars") → {"moons":2,"dayHours":24.6}');
  // The tool's answer went back to the model.
  const answer = requests[1]?.body.messages.find((message: { role: string }) => message.role === 'tool');
  expect(JSON.parse(answer?.content)).toEqual({ moons: 2, dayHours: 24.6 });
}

describe('tether serve --tools', () => {
  it('from a checkout, loads a TypeScript tools file whose tool a ReAct module created by the CLI calls', async () => {
    const { serve, on } = ownNode('src');
    const node = startCli(['serve', ...serve, '--tools', 'examples/tools.ts'], providerEnv());
    onTestFinished(async () => void (await node.stop('SIGTERM')));
    await node.until('stdout', /node serving on/);
    await callsTheTool(node, on);
  });

  // Found by mutation: reading only a `tools` export passed every test.
  it('takes the tools a file exports as its default export, as it takes a tools export', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tether-tools-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, 'default-tools.mjs');
    const examples = pathToFileURL(join(root, 'examples/tools.ts')).href;
    await writeFile(file, `export { tools as default } from ${JSON.stringify(examples)};\n`);
    const { serve, on } = ownNode('default');
    const node = startCli(['serve', ...serve, '--tools', file], providerEnv());
    onTestFinished(async () => void (await node.stop('SIGTERM')));
    await node.until('stdout', /node serving on/);
    await callsTheTool(node, on);
  });

  it("in the Docker image's layout, runs the compiled CLI with the compiled tools file, as docker-compose.yml does", async () => {
    const compose = await readFile(join(root, 'docker-compose.yml'), 'utf8');
    expect(compose).toContain("command: ['serve', '--tools', 'dist/examples/tools.js']");
    const { serve, on } = ownNode('image');
    const node = startNode(['bin/tether.js', 'serve', ...serve, '--tools', 'dist/examples/tools.js'], {
      cwd: image,
      env: providerEnv(),
    });
    onTestFinished(async () => void (await node.stop('SIGTERM')));
    await node.until('stdout', /node serving on/);
    await callsTheTool(node, on);
  });

  it("the image's compiled code imports no package but the runtime dependencies, which is all the image installs", async () => {
    const manifest = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
      peerDependencies: Record<string, string>;
    };
    // `npm ci --omit=dev` installs both: a peer dependency (xstate) is one the package runs with.
    const installed = { ...manifest.dependencies, ...manifest.peerDependencies };
    const imported = new Set<string>();
    for (const file of await readdir(join(image, 'dist'), { recursive: true })) {
      if (!file.endsWith('.js')) continue;
      const code = await readFile(join(image, 'dist', file), 'utf8');
      // Static imports and re-exports (tsc writes them from the start of a line), bare imports, dynamic imports.
      const statements =
        /^\s*(?:import|export)\b[^;'"]*?\bfrom\s*'([^']+)'|^\s*import\s*'([^']+)'|\bimport\(\s*'([^']+)'\s*\)/gm;
      for (const match of code.matchAll(statements)) {
        const specifier = match[1] ?? match[2] ?? match[3]!;
        if (specifier.startsWith('.') || specifier.startsWith('node:')) continue;
        const parts = specifier.split('/');
        imported.add(specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!);
      }
    }
    // Read as a check of the scan itself: the core dependencies are imported.
    expect(imported).toContain('@ax-llm/ax');
    expect(imported).toContain('nats');
    expect([...imported].filter((name) => !(name in installed))).toEqual([]);
  });

  it('refuses a tools file that is not there, or that exports no tools, with exit 2 and one line', async () => {
    // In the user's words: not the path the import resolved against this package.
    const missing = await inProcess(['serve', '--tools', 'no/such/tools.js']);
    expect([missing.code, errorLines(missing)]).toEqual([
      2,
      ['tether: usage: --tools no/such/tools.js: no such file (see: tether serve --help)'],
    ]);

    const dir = await mkdtemp(join(tmpdir(), 'tether-tools-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const folder = await inProcess(['serve', '--tools', dir]);
    expect([folder.code, errorLines(folder)]).toEqual([
      2,
      [`tether: usage: --tools ${dir}: not a file (see: tether serve --help)`],
    ]);
    const noTools = join(dir, 'no-tools.mjs');
    await writeFile(noTools, 'export const helpers = [];\n');
    const loop = join(dir, 'loop.mjs');
    await symlink(loop, loop);
    const [under, looped] = await Promise.all([
      inProcess(['serve', '--tools', join(noTools, 'tools.mjs')]),
      inProcess(['serve', '--tools', loop]),
    ]);
    expect([under.code, errorLines(under)]).toEqual([
      2,
      [`tether: usage: --tools ${join(noTools, 'tools.mjs')}: no such file (see: tether serve --help)`],
    ]);
    expect([looped.code, errorLines(looped)]).toEqual([
      2,
      [`tether: usage: --tools ${loop}: cannot read it (ELOOP) (see: tether serve --help)`],
    ]);
    const refused = await inProcess(['serve', '--tools', noTools]);
    expect([refused.code, errorLines(refused)]).toEqual([
      2,
      [`tether: usage: --tools ${noTools} exports no 'tools' array (see: tether serve --help)`],
    ]);
  });

  it('says a tools file that fails as it loads is at fault (tools_failed, exit 1), with its own error', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tether-tools-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const throwing = join(dir, 'throwing.mjs');
    await writeFile(throwing, "throw new Error('no API key for the search tool');\n");
    const threw = await inProcess(['serve', '--tools', throwing]);
    expect([threw.code, errorLines(threw)]).toEqual([
      1,
      [`tether: tools_failed: --tools ${throwing} failed to load: no API key for the search tool`],
    ]);
    // A file that is there but imports what is not: the file's fault too, not a missing --tools file.
    const importing = join(dir, 'importing.mjs');
    await writeFile(importing, "export { tools } from './gone.mjs';\n");
    const broken = await inProcess(['serve', '--tools', importing]);
    expect(broken.code).toBe(1);
    expect(errorLines(broken)).toEqual([
      expect.stringMatching(
        new RegExp(`^tether: tools_failed: --tools ${importing} failed to load: Cannot find module`),
      ),
    ]);
  });
});
