import { afterEach, describe, expect, it } from 'vitest';
import { Runtime, createEchoModel } from '../src/index.js';

const spec = {
  type: 'Predict',
  signature: 'question:string -> answer:string',
  bindings: { temperature: 't' },
} as const;

describe('a module listener unsubscribed while a change is delivered', () => {
  let runtime: Runtime | undefined;
  afterEach(() => runtime?.stop());

  it('is not called for that change (onState)', async () => {
    runtime = await Runtime.start({ llm: createEchoModel() });
    const session = await runtime.session('unsub');
    await session.defineVariable('t', 'float', 0.5);
    const qa = await session.module('qa', spec);
    const heard: string[] = [];
    let offB: () => void = () => {};
    qa.onState((state) => {
      heard.push(`A:${state}`);
      if (state === 'syncing') offB();
    });
    offB = qa.onState((state) => heard.push(`B:${state}`));
    await qa.execute({ question: 'q' });
    // B was unsubscribed before `syncing` reached it: it hears nothing from then on.
    expect(heard).toEqual(['A:idle', 'B:idle', 'A:syncing', 'A:executing', 'A:idle']);
  });

  it('is not called for that event (on)', async () => {
    runtime = await Runtime.start({ llm: createEchoModel() });
    const session = await runtime.session('unsub-on');
    await session.defineVariable('t', 'float', 0.5);
    const qa = await session.module('qa', spec);
    const heard: string[] = [];
    let offB: () => void = () => {};
    qa.on('module.result', () => {
      heard.push('A');
      offB();
    });
    offB = qa.on('module.result', () => heard.push('B'));
    await qa.execute({ question: 'q' });
    await qa.execute({ question: 'q' });
    expect(heard).toEqual(['A', 'A']);
  });
});
