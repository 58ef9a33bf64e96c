import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PY_LINE_LENGTH, q } from '../../generators/app/quote.js';

const ROOT = join(import.meta.dirname, '..', '..');

describe('q.py / q.pyAssign: what ruff format keeps (test/lint runs the real ruff)', () => {
  it('double quotes unless the text has more " than \'', () => {
    expect(q.py('He said "hi"')).toBe(`'He said "hi"'`);
    expect(q.py("it's")).toBe(`"it's"`);
    expect(q.py(`both " and '`)).toBe(`"both \\" and '"`);
    expect(q.py(`""" and '`)).toBe(`'""" and \\''`);
  });
  it('non-ASCII as lowercase escapes (no ambiguous character in the source for RUF001)', () => {
    expect(q.py('caf\u00e9 \u2013 \ud83d\ude80')).toBe('"caf\\xe9 \\u2013 \\U0001f680"');
  });
  it('a long assignment gets parentheses exactly when they make it fit', () => {
    expect(q.pyAssign('X', 'short')).toBe('X = "short"');
    const fits = 'a'.repeat(PY_LINE_LENGTH - 6);
    expect(q.pyAssign('DESCRIPTION', fits)).toBe(`DESCRIPTION = (\n    "${fits}"\n)`);
    const never = 'a'.repeat(PY_LINE_LENGTH);
    expect(q.pyAssign('DESCRIPTION', never)).toBe(`DESCRIPTION = "${never}"`);
  });
  it('PY_LINE_LENGTH is the generated pyproject line-length', () => {
    const pyproject = readFileSync(join(ROOT, 'templates', 'python', 'pyproject.toml.ejs'), 'utf8');
    expect(/^line-length = (\d+)$/m.exec(pyproject)?.[1]).toBe(String(PY_LINE_LENGTH));
  });
});

describe('q.md: one literal Markdown paragraph', () => {
  it.each([
    ['--- not a rule', '\\--- not a rule'],
    ['- item', '\\- item'],
    ['1. item', '1\\. item'],
    ['12) item', '12\\) item'],
    ['=== setext', '\\=== setext'],
    ['# heading', '\\# heading'],
    ['> quote', '\\> quote'],
    ['* star', '\\* star'],
    ['+ plus', '\\+ plus'],
    ['&copy; entity', '\\&copy; entity'],
    ['a - b 1. c', 'a - b 1. c'],
  ])('%j -> %j', (input, out) => expect(q.md(input)).toBe(out));
});
