import { describe, expect, it } from 'vitest';
import { text, type RecordedRequest } from '../support/openai-stub.js';
import { useStubbedSession } from '../support/stubbed-session.js';

const { stub, session } = useStubbedSession('pot-sandbox');

/** Whether a request is one of the actor's turns, the one that asks for code. */
const asksForCode = (request: RecordedRequest): boolean =>
  JSON.stringify(request.body.messages).includes('generate new fields: `Javascript Code`');

/** The model writes `code` at its first turn, then ends the program; every other request gets an answer. */
function modelWrites(code: string): void {
  let turns = 0;
  stub().fallback = (request) => {
    if (!asksForCode(request)) return text('Answer: done');
    return text(turns++ === 0 ? `Javascript Code: ${code}` : 'Javascript Code: await final("done", {})');
  };
}

/** Cores this process burnt over `ms`: a worker left spinning shows as about 1. */
async function coresBurntOver(ms: number): Promise<number> {
  const before = process.cpuUsage();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000 / ms;
}

const potSpec = { type: 'ProgramOfThought', signature: 'question:string -> answer:string', maxSteps: 3 } as const;

describe('ProgramOfThought sandbox', () => {
  it("refuses the model's code the host: no process, env, require, import, fetch or socket", async () => {
    process.env.TETHER_SANDBOX_CANARY = 'sk-canary-must-not-leak';
    try {
      modelWrites(
        'console.log("SEEN", JSON.stringify([typeof process, typeof require, typeof fetch, typeof WebSocket, ' +
          'typeof (() => {}).constructor.constructor("return this")().process, ' +
          'await import("node:fs").then(() => "imported", () => "refused"), ' +
          'await import("node:child_process").then(() => "imported", () => "refused")]))',
      );
      const pot = await session().module('probe', potSpec);
      await pot.execute({ question: 'q' });
      const turns = stub()
        .chatRequests.filter(asksForCode)
        .map((request) => (request.body.messages as { content: string }[]).map((m) => m.content).join('\n'));
      // The code ran, and the next turn was told what it printed: each door closed.
      expect(turns.some((turn) => turn.includes('Result:\nSEEN'))).toBe(true);
      const printed = ['undefined', 'undefined', 'undefined', 'undefined', 'undefined', 'refused', 'refused'];
      expect(turns.join('\n')).toContain(`SEEN ${JSON.stringify(printed)}`);
      expect(JSON.stringify(stub().requests)).not.toContain('sk-canary-must-not-leak');
    } finally {
      delete process.env.TETHER_SANDBOX_CANARY;
    }
  });

  it("ends a program that never stops at the execution's timeout: call_timeout naming the module, the worker gone, the next execution served", async () => {
    modelWrites('console.log(1); while (true) {}');
    const pot = await session().module('spinner', potSpec);
    const error = await pot.execute({ question: 'q' }, { timeoutMs: 1500 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'call_timeout', message: expect.stringContaining('spinner') });
    expect(await coresBurntOver(1000)).toBeLessThan(0.3);
    modelWrites('console.log(2)');
    expect((await pot.execute({ question: 'again' }, { timeoutMs: 8000 })).output).toEqual({ answer: 'done' });
  }, 20_000);

  it('ends a program that never stops when its execution is cancelled: execution_aborted naming the module, the worker gone', async () => {
    modelWrites('console.log(1); while (true) {}');
    const pot = await session().module('cancelled', potSpec);
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('user pressed stop')), 1000);
    const error = await pot.execute({ question: 'q' }, { signal: controller.signal }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'execution_aborted', message: expect.stringContaining("'cancelled'") });
    expect(await coresBurntOver(1000)).toBeLessThan(0.3);
    modelWrites('console.log(2)');
    expect((await pot.execute({ question: 'again' }, { timeoutMs: 8000 })).output).toEqual({ answer: 'done' });
  }, 20_000);

  // Found by the sandbox audit: a program growing an array without end took the service to 4 GB before Node ended it.
  it("ends a program whose heap grows past the workers' bound, tells the model, and serves on", async () => {
    // Some 480 MB of doubles, which the process's own heap would hold and a worker's bound does not.
    modelWrites(
      'const a = []; for (let i = 0; i < 60; i++) a.push(new Array(1e6).fill(i + 0.5)); console.log("HELD", a.length)',
    );
    const pot = await session().module('hungry', potSpec);
    expect((await pot.execute({ question: 'q' }, { timeoutMs: 15_000 })).output).toEqual({ answer: 'done' });
    const turns = JSON.stringify(
      stub()
        .chatRequests.filter(asksForCode)
        .map((request) => request.body.messages),
    );
    expect(turns).not.toContain('HELD 60');
    expect(turns).toMatch(/memory/i);
    modelWrites('console.log(2)');
    expect((await pot.execute({ question: 'again' }, { timeoutMs: 8000 })).output).toEqual({ answer: 'done' });
  }, 20_000);

  it("leaves no timer of the model's burning once its execution has answered", async () => {
    modelWrites('console.log(1); setInterval(() => { const t = Date.now(); while (Date.now() - t < 50) {} }, 0)');
    const pot = await session().module('timers', potSpec);
    expect((await pot.execute({ question: 'q' }, { timeoutMs: 8000 })).output).toEqual({ answer: 'done' });
    expect(stub().chatRequests.filter(asksForCode).length).toBeGreaterThanOrEqual(2);
    expect(await coresBurntOver(1000)).toBeLessThan(0.3);
  }, 20_000);
});
