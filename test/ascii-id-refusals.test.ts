/**
 * Ids and names are ASCII only (docs/protocol.md, "Ids and names": `A-Z a-z 0-9 _ -`). A refusal must say so: a user
 * who writes in Japanese, Arabic or Hindi was told that `名前` does not "hold only letters", which it does.
 */
import { describe, expect, it } from 'vitest';
import { Runtime, ValidationError } from '../src/index.js';
import { assertModuleId } from '../src/modules/module-spec.js';
import { assertToolName } from '../src/modules/tool-name.js';
import { assertExecutionId } from '../src/nats/request-fields.js';
import { assertSessionId, assertVariableName } from '../src/variables/index.js';
import { cli } from './support/cli-in-process.js';

/** The message of what `run` throws, which must be a ValidationError. */
function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).message;
  }
  throw new Error('not refused');
}

describe('the refusal of an id in another script', () => {
  it('says the rule takes ASCII letters, naming the id', () => {
    expect(refusal(() => assertVariableName('名前'))).toBe(
      "invalid variable name '名前': must start with an ASCII letter (A-Z, a-z) or _ and hold only ASCII letters, " +
        'digits, _ or -, at most 128 characters',
    );
    expect(refusal(() => assertSessionId('جلسة'))).toBe(
      "invalid session id 'جلسة': must hold only ASCII letters (A-Z, a-z), digits, _ or -, 1 to 128 characters",
    );
    expect(refusal(() => assertModuleId('मॉड्यूल'))).toBe(
      "invalid module id 'मॉड्यूल': use 1-128 ASCII letters (A-Z, a-z), digits, '_' or '-'",
    );
    expect(refusal(() => assertExecutionId('実行'))).toBe(
      "invalid executionId '実行': use 1-128 ASCII letters (A-Z, a-z), digits, '_' or '-'",
    );
    expect(refusal(() => assertToolName('検索', 'runtime tool'))).toBe(
      "runtime tool '検索' is not a name providers take: 1 to 64 ASCII letters (A-Z, a-z), digits, '_' or '-'",
    );
  });

  it('says so embedded, where a session, a variable and a module are named', async () => {
    const runtime = await Runtime.start();
    try {
      await expect(runtime.session('セッション')).rejects.toThrow(/'セッション': must hold only ASCII letters/);
      const session = await runtime.session('s');
      await expect(session.defineVariable('温度', 'float', 0.7)).rejects.toThrow(/'温度': must start with an ASCII/);
      await expect(
        session.module('質問', { type: 'Predict', signature: 'question:string -> answer:string' }),
      ).rejects.toThrow(/'質問': use 1-128 ASCII letters/);
    } finally {
      await runtime.stop();
    }
  });

  it('says so in the CLI, before connecting', async () => {
    const run = await cli('var', 'get', 'x', '-s', 'セッション', '--nats', 'nats://127.0.0.1:1');
    expect([run.code, run.stderr]).toEqual([
      2,
      "tether: usage: --session 'セッション' is no session id: use 1 to 128 ASCII letters (A-Z, a-z), digits, '_' " +
        "and '-' (see: tether var get --help)\n",
    ]);
  });
});
