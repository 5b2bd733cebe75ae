import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { VARIABLE_OPERATIONS } from '../../src/nats/operations.js';
import { createSubjects } from '../../src/nats/subjects.js';

describe('subjects', () => {
  it('builds every subject under the default prefix', () => {
    const s = createSubjects();
    expect(s.open('s1')).toBe('tether.v1.session.s1.open');
    expect(s.variable('s1', 'getMany')).toBe('tether.v1.session.s1.var.getMany');
    expect(s.endpoint('set')).toBe('tether.v1.session.*.var.set');
    expect(s.endpoint('open')).toBe('tether.v1.session.*.open');
    expect(s.deleteSession('s1')).toBe('tether.v1.session.s1.delete');
    expect(s.deleteEndpoint()).toBe('tether.v1.session.*.delete');
    expect(s.endpoint('delete')).toBe('tether.v1.session.*.var.delete');
    expect(s.sessionControl('s1')).toBe('tether.v1.control.s1.session.end');
    expect(s.sessionControls()).toBe('tether.v1.control.*.session.end');
    expect(s.module('s1', 'm1', 'execute')).toBe('tether.v1.session.s1.module.m1.execute');
    expect(s.variableEvent('s1', 'temperature')).toBe('tether.v1.events.s1.var.temperature');
    expect(s.variableEvents('s1')).toBe('tether.v1.events.s1.var.*');
    expect(s.moduleEvent('s1', 'm1')).toBe('tether.v1.events.s1.module.m1');
    expect(s.allEvents()).toBe('tether.v1.events.>');
    expect(s.inspect()).toBe('tether.v1.inspect.>');
    expect(s.inspectSession('s1')).toBe('tether.v1.inspect.s1.session');
    expect(s.inspectModule('s1', 'm1')).toBe('tether.v1.inspect.s1.module.m1');
  });

  it('uses a configured prefix of several tokens', () => {
    const s = createSubjects('acme.prod');
    expect(s.variable('s1', 'set')).toBe('acme.prod.v1.session.s1.var.set');
    expect(s.parseRequest('acme.prod.v1.session.s1.var.set')).toEqual({
      kind: 'var',
      sessionId: 's1',
      operation: 'set',
    });
    expect(s.parseRequest('tether.v1.session.s1.var.set')).toBeUndefined();
  });

  it('parses what it builds, for every operation, and nothing else', () => {
    const s = createSubjects();
    for (const operation of VARIABLE_OPERATIONS) {
      expect(s.parseRequest(s.variable('abc', operation))).toEqual({ kind: 'var', sessionId: 'abc', operation });
    }
    expect(s.parseRequest('tether.v1.session.abc.open')).toEqual({ kind: 'open', sessionId: 'abc' });
    expect(s.parseRequest(s.deleteSession('abc'))).toEqual({ kind: 'delete', sessionId: 'abc' });
    expect(s.parseSessionControl(s.sessionControl('abc'))).toBe('abc');
    expect(s.parseSessionControl(s.moduleControl('abc', 'm', 'stop'))).toBeUndefined();
    expect(s.parseModuleControl(s.sessionControl('abc'))).toBeUndefined();
    expect(s.parseRequest('tether.v1.session.abc.var.update')).toBeUndefined();
    expect(s.parseRequest('tether.v1.session.a.b.var.get')).toBeUndefined();
    expect(s.parseRequest('tether.v1.session.abc.var')).toBeUndefined();
    expect(s.parseVariableEvent('tether.v1.events.abc.var.t')).toEqual({ sessionId: 'abc', name: 't' });
    expect(s.parseVariableEvent('tether.v1.events.abc.module.m')).toBeUndefined();
  });

  it('refuses tokens and prefixes that would address another subject', () => {
    const s = createSubjects();
    for (const bad of ['a.b', 'a*', '>', 'a b', '', 'tab\tx']) {
      expect(() => s.variable(bad, 'get')).toThrow(ValidationError);
      expect(() => s.variableEvent('s1', bad)).toThrow(ValidationError);
    }
    for (const bad of ['', 'a.', '.a', 'a..b', 'a.*', 'a.>', 'a b'])
      expect(() => createSubjects(bad)).toThrow(ValidationError);
  });
});
