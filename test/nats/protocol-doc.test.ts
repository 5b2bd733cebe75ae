/**
 * docs/protocol.md is what a client in another language reads instead of the source: every operation, header,
 * module event type and error code the code has must be in it, each error code with the status the wire gives it.
 * Read from the code, so adding one without documenting it fails here.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/errors.js';
import { EXECUTION_OUTCOME_HEADER } from '../../src/nats/execution-replies.js';
import { MODULE_EVENT_TYPES } from '../../src/nats/module-events.js';
import { MODULE_OPERATIONS, VARIABLE_OPERATIONS } from '../../src/nats/operations.js';
import {
  ACCEPTED_BY_HEADER,
  ACCEPT_NOTICE_HEADER,
  ERROR_CODE_HEADER,
  ERROR_HEADER,
  INCARNATION_HEADER,
  MIN_MODULES_REVISION_HEADER,
  MIN_REVISION_HEADER,
  statusOf,
} from '../../src/nats/wire.js';
import { CHECKED_INPUT_TYPES } from '../../src/modules/input-fields.js';
import {
  documentedErrorStatuses,
  documentedInputs,
  readProtocolDoc,
  readmeErrorStatuses,
} from '../support/protocol-doc.js';

const doc = readProtocolDoc();
const errorsFolder = new URL('../../src/errors/', import.meta.url);
/** The error classes' sources: src/errors.ts re-exports them by family from src/errors/. */
const errorsSource = readdirSync(errorsFolder)
  .filter((file) => file.endsWith('.ts'))
  .map((file) => readFileSync(new URL(file, errorsFolder), 'utf8'))
  .join('\n');

/** Every code an error class of src/errors/ can carry: its `code = '...'`, and the codes of a code union type. */
function errorCodes(): string[] {
  const codes = new Set<string>();
  for (const match of errorsSource.matchAll(/\bcode(?::\s*\w+)?\s*=\s*'([a-z_]+)'/g)) codes.add(match[1]!);
  for (const union of errorsSource.matchAll(/type \w*Code\s*=\s*([^;]+);/g)) {
    for (const member of union[1]!.matchAll(/'([a-z_]+)'/g)) codes.add(member[1]!);
  }
  return [...codes].sort();
}

/** The `### ...` headings of the doc, as written. */
const headings = [...doc.matchAll(/^#{2,4} (.+)$/gm)].map((match) => match[1]!.trim());

describe('docs/protocol.md', () => {
  it('has a section for every variable and module operation, and none for an operation the node lacks', () => {
    const expected = [
      ...VARIABLE_OPERATIONS.map((operation) => `var.${operation}`),
      ...MODULE_OPERATIONS.map((operation) => `module.${operation}`),
      'module.list',
    ];
    const documented = headings.flatMap((heading) =>
      [...heading.matchAll(/`((?:var|module)\.\w+)`/g)].map((m) => m[1]!),
    );
    expect(new Set(documented)).toEqual(new Set(expected));
    expect(headings).toContain('`open`');
    expect(headings).toContain('`delete`');
  });

  it('names every request and reply header, spelt as the node reads it', () => {
    for (const header of [
      MIN_REVISION_HEADER,
      MIN_MODULES_REVISION_HEADER,
      INCARNATION_HEADER,
      ACCEPT_NOTICE_HEADER,
      ACCEPTED_BY_HEADER,
      EXECUTION_OUTCOME_HEADER,
      ERROR_HEADER,
      ERROR_CODE_HEADER,
    ]) {
      expect(doc).toContain(`| \`${header}\``);
    }
  });

  it('says what JSON every input field type the node checks takes, and lists lists', () => {
    const documented = documentedInputs(doc).map((row) => row.type);
    // Ax refuses a `class` input field when the module is created: the page says it can only be an output.
    const inputTypes = CHECKED_INPUT_TYPES.filter((type) => type !== 'class');
    expect(documented).toEqual(expect.arrayContaining([...inputTypes, '<type>[]']));
    expect(doc).toContain('a `class` field can only be an output');
  });

  it('describes every module event type', () => {
    for (const type of MODULE_EVENT_TYPES) expect(doc).toContain(`| \`${type}\``);
  });

  it('lists every error code with the status the wire gives it', () => {
    const codes = errorCodes();
    // The parse found the classes (a change of how the error classes spell codes must not empty this test).
    expect(codes).toEqual(expect.arrayContaining(['validation_failed', 'session_expired', 'internal_error']));
    const rows = documentedErrorStatuses(doc);
    const documented = Object.fromEntries(codes.map((code) => [code, rows.get(code)]));
    expect(documented).toEqual(Object.fromEntries(codes.map((code) => [code, statusOf(code)])));
    // And no row for a code the code does not have.
    expect([...rows.keys()].sort()).toEqual(codes);
    // The exported list a caller switches over is the same set.
    expect([...ERROR_CODES].sort()).toEqual(codes);
  });

  it("is matched by the README's Errors section, which names every code but the base class's", () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const section = /^## Errors\n([\s\S]*?)^## /m.exec(readme)?.[1] ?? '';
    const named = new Set([...section.matchAll(/`([a-z_]+)`/g)].map((match) => match[1]!));
    expect(errorCodes().filter((code) => code !== 'bridge_error' && !named.has(code))).toEqual([]);
  });

  it("gives in the README's Errors section the status of every code the page's table gives other than 500", () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const inReadme = readmeErrorStatuses(readme);
    const inTable = documentedErrorStatuses(doc);
    // Every code the README puts under a status, the page's table gives that status too (and the wire does).
    expect(Object.fromEntries(inReadme)).toEqual(
      Object.fromEntries([...inReadme.keys()].map((code) => [code, inTable.get(code)])),
    );
    expect(Object.fromEntries(inReadme)).toEqual(
      Object.fromEntries([...inReadme.keys()].map((code) => [code, statusOf(code)])),
    );
    // And every code the table does not give 500 is there: the README's "500 every other code" covers the rest.
    const notServerErrors = [...inTable].filter(([, status]) => status !== 500).map(([code]) => code);
    expect([...inReadme.keys()].sort()).toEqual(notServerErrors.sort());
  });
});
