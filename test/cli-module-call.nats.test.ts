/**
 * `tether module call` against a node whose model is slow (the OpenAI-protocol stub holding its answer): a call
 * that fails or is interrupted prints one line and leaves no execution running on the node.
 */
import { connect as connectNats } from 'nats';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { Runtime } from '../src/index.js';
import { startCli } from './support/cli-process.js';
import { startSilentServer } from './support/silent-server.js';
import { startTcpProxy } from './support/tcp-proxy.js';
import { cliRunners, errorLines } from './support/cli-runners.js';
import { startNatsServer, type NatsTestServer } from './support/nats-server.js';
import { useOpenAIStub } from './support/openai-stub.js';
import { waitFor } from './support/wait-for.js';

const { stub, llm } = useOpenAIStub();
let server: NatsTestServer;
const id = `${process.pid}_${Date.now()}`;

const { start, tether, inProcess } = cliRunners(() => server.url);

describe('cli module call', () => {
  const prefix = `slow${process.pid}`;
  let slow: Runtime;
  const s = ['--session', 'slow-1', '--prefix', prefix];

  beforeAll(async () => {
    server = await startNatsServer();
    slow = await Runtime.start({
      llm: llm(),
      onError: () => {},
      nats: {
        servers: server.url,
        prefix,
        variablesBucket: `cli_call_vars_${id}`,
        sessionsBucket: `cli_call_sessions_${id}`,
        modulesBucket: `cli_call_modules_${id}`,
      },
    });
    const created = await inProcess([
      'module',
      'create',
      'qa',
      '--type',
      'Predict',
      '--signature',
      'question:string -> answer:string',
      '--spec',
      '{"maxRetries":0}',
      ...s,
    ]);
    expect(created.code).toBe(0);
  });

  afterAll(async () => {
    await slow?.stop();
    await server?.stop();
  });

  /** The events the node publishes for qa from now on, as a plain subscriber hears them. */
  async function moduleEvents(): Promise<{ type: string; executionId?: string; error?: { code: string } }[]> {
    const nc = await connectNats({ servers: server.url });
    onTestFinished(() => nc.close());
    const events: { type: string; executionId?: string; error?: { code: string } }[] = [];
    nc.subscribe(`${prefix}.v1.events.slow-1.module.qa`, { callback: (_error, msg) => events.push(msg.json()) });
    await nc.flush();
    return events;
  }

  it('fails a call past --timeout with one stderr line, its own error, naming the call rather than a subject', async () => {
    stub().delayMs = 30_000;
    const events = await moduleEvents();
    const abandoned = stub().abandoned;
    const call = await tether(['module', 'call', 'qa', '--input', 'question=slow?', '--timeout', '1000', ...s]);
    expect(call.code).toBe(1);
    expect(errorLines(call)).toEqual([
      "tether: call_timeout: module call 'qa' in session slow-1 timed out after 1000 ms (--timeout)",
    ]);
    expect(call.stdout).toBe('');
    // As on Ctrl-C, the node was told: it ended the execution rather than run on and pay for a call nobody waits for
    // (README; no test held it for a timeout).
    const failed = await waitFor(() => events.find((e) => e.type === 'module.failed'), {
      message: 'the node ended the execution that timed out',
    });
    expect(failed.error?.code).toBe('execution_aborted');
    await waitFor(() => stub().abandoned > abandoned, { message: 'the model call dropped' });
  });

  it('bounds finding the module by --timeout too, and says so as the call the user made', async () => {
    // 1 ms is gone before the module is found: no execution is sent, and the line says so.
    const call = await inProcess(['module', 'call', 'qa', '--input', 'question=hi', '--timeout', '1', ...s]);
    expect([call.code, call.stdout]).toEqual([1, '']);
    expect(call.stderr).toBe(
      "tether: call_timeout: module call 'qa' in session slow-1 timed out after 1 ms (--timeout): the module did not " +
        'answer in time, so its execution was not sent\n',
    );
  });

  it('cancels the execution on the node on Ctrl-C, then exits 130 with one line', async () => {
    stub().delayMs = 30_000;
    const events = await moduleEvents();
    const call = start(['module', 'call', 'qa', '--input', 'question=never mind', ...s]);
    // The node runs it: the model has the request.
    await waitFor(() => stub().requests.length === 1, { message: 'the execution reached the model' });
    const interrupted = await call.stop('SIGINT');
    expect(interrupted.code).toBe(130);
    expect(errorLines(interrupted)).toHaveLength(1);
    expect(interrupted.stderr).toMatch(
      /^tether: execution_aborted: execution '[\w-]+' of module 'qa' was aborted: SIGINT\n$/,
    );
    // The node heard the cancel: it ended the execution rather than letting it run on.
    const executionId = /execution '([\w-]+)'/.exec(interrupted.stderr)?.[1];
    await waitFor(
      () =>
        events.some(
          (e) => e.type === 'module.failed' && e.executionId === executionId && e.error?.code === 'execution_aborted',
        ),
      { message: 'the node cancelled the execution' },
    );
  });

  it('prints one line and exits 3 when its NATS connection goes away under a call', async () => {
    const proxy = await startTcpProxy(server.url);
    onTestFinished(() => proxy.close());
    // The model holds the execution, and the node's own timeout answers only 4 s after it took it: time enough for
    // the cut to come first, whatever the machine's load.
    stub().delayMs = 20_000;
    const call = startCli(['module', 'call', 'qa', '--input', 'question=still there?', '--timeout', '4000', ...s], {
      NATS_URL: proxy.url,
    });
    await waitFor(() => stub().requests.length === 1, { message: 'the execution reached the model' });
    proxy.cut();
    const ended = await call.exited;
    // The connection's news (lost, reconnecting) is no second line: a one-shot command's failure is its one line, which
    // says the cancel could not get out; a lost NATS is exit 3, as one that cannot be reached.
    expect(ended.code).toBe(3);
    expect(errorLines(ended)).toHaveLength(1);
    expect(ended.stderr).toMatch(
      /^tether: nats_connection: connection lost .*; its cancel reached no node, so it may still be running\n$/,
    );
  });

  it('ends at once on Ctrl-C while it is still connecting, with nothing sent to cancel', async () => {
    const silent = await startSilentServer();
    onTestFinished(() => silent.close());
    const call = startCli(['module', 'call', 'qa', '--input', 'question=x', '-s', 'a'], { NATS_URL: silent.url });
    await waitFor(() => silent.connections() === 1, { message: 'the call is connecting' });
    call.child.kill('SIGINT');
    // Killed by the signal, as any command is before its execution is sent: no line, no wait for the connection.
    const ended = await call.exited;
    expect([ended.code, ended.stderr, ended.stdout]).toEqual([null, '', '']);
  });
});
