import { afterEach, describe, expect, it } from 'vitest';
import { Runtime, ValidationError } from '../src/index.js';

describe('runtime provider configuration', () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const name of ['TETHER_AI', 'TETHER_AI_URL', 'TETHER_AI_KEY', 'TETHER_AI_MODEL']) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  });

  it('refuses to start with an unknown provider name, naming TETHER_AI', async () => {
    process.env.TETHER_AI = 'telepathy';
    const start = Runtime.start();
    await expect(start).rejects.toBeInstanceOf(ValidationError);
    await expect(start).rejects.toMatchObject({ message: expect.stringContaining('TETHER_AI') });
  });

  it('refuses to start with a provider that needs a key and has none', async () => {
    process.env.TETHER_AI = 'openai';
    delete process.env.TETHER_AI_KEY;
    await expect(Runtime.start()).rejects.toMatchObject({
      code: 'validation_failed',
      message: expect.stringContaining('TETHER_AI_KEY'),
    });
  });

  it('starts on the offline model when nothing is configured', async () => {
    for (const name of ['TETHER_AI', 'TETHER_AI_URL', 'TETHER_AI_KEY', 'TETHER_AI_MODEL']) delete process.env[name];
    const runtime = await Runtime.start();
    const session = await runtime.session('offline');
    const qa = await session.module('qa', { type: 'Predict', signature: 'question:string -> answer:string' });
    expect((await qa.execute({ question: 'hello' })).output.answer).toContain('tether-echo');
    await runtime.stop();
  });
});
