import { describe, expect, it } from 'vitest';
import { firstErrorLine } from '../../generators/post.js';

describe('firstErrorLine (what a failed post-generation step reports)', () => {
  it('picks the error line, not the last line of a multi-line message', () => {
    const out = [
      'Using CPython 3.11.7',
      'error: No interpreter found for Python 3.12 in managed installations or search path',
      '',
      'hint: A managed Python download is available for Python 3.12, but Python downloads are set to',
      '      never, so no two Python versions to be found at the same time.',
    ].join('\n');
    expect(firstErrorLine(out)).toBe('error: No interpreter found for Python 3.12 in managed installations or search path');
  });
  it('falls back to the first non-empty line, whitespace collapsed', () => {
    expect(firstErrorLine('\n   something    odd happened  \nmore')).toBe('something odd happened');
  });
  it('bounds the length and says when there was no output', () => {
    expect(firstErrorLine(`error: ${'x'.repeat(300)}`)).toHaveLength(160);
    expect(firstErrorLine('')).toBe('no output');
  });
});
