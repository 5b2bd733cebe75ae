import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/index.js';
import { revisionIn } from '../../src/nats/revision-headers.js';

describe('revisionIn', () => {
  it('reads a revision written in decimal digits, leading zeros included, and none from an absent or empty header', () => {
    expect(revisionIn('0', 'Tether-Min-Revision')).toBe(0);
    expect(revisionIn('42', 'Tether-Min-Revision')).toBe(42);
    expect(revisionIn('007', 'Tether-Min-Revision')).toBe(7);
    expect(revisionIn('9007199254740991', 'Tether-Min-Revision')).toBe(Number.MAX_SAFE_INTEGER);
    expect(revisionIn(undefined, 'Tether-Min-Revision')).toBeUndefined();
    expect(revisionIn('', 'Tether-Min-Revision')).toBeUndefined();
  });

  it('refuses anything else that Number() would read, naming the header', () => {
    const refused = ['0x7fffffff', '0b11', '0o7', ' 5 ', '5 ', '5.0', '-0', '-1', '+5', '1e9', 'Infinity', '1_000'];
    for (const header of [...refused, '9007199254740992', 'soon']) {
      let error: unknown;
      try {
        revisionIn(header, 'Tether-Min-Modules-Revision');
      } catch (caught) {
        error = caught;
      }
      expect(error, header).toBeInstanceOf(ValidationError);
      expect(error, header).toMatchObject({
        code: 'validation_failed',
        message: `header Tether-Min-Modules-Revision must be a whole number in decimal digits (0 to 9007199254740991), got '${header}'`,
        details: { constraint: 'Tether-Min-Modules-Revision' },
      });
    }
  });

  // Found by mutation testing: an error that quoted the whole header, however long, passed every test.
  it('quotes no more than the first 40 characters of a long header it refuses', () => {
    const header = `${'7'.repeat(40)}${'x'.repeat(10_000)}`;
    expect(() => revisionIn(header, 'Tether-Min-Revision')).toThrow(
      `header Tether-Min-Revision must be a whole number in decimal digits (0 to 9007199254740991), got '${'7'.repeat(40)}'`,
    );
    expect(() => revisionIn(header, 'Tether-Min-Revision')).toThrow(/got '7{40}'$/);
  });
});
