import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fileDiff, hunks } from '../../generators/drift/textdiff.js';

const tmp = mkdtempSync(join(tmpdir(), 'cas-textdiff-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The diff from a to b, applied with `git apply` to a, must give b. */
function roundTrip(a: string, b: string): number {
  const d = fileDiff('f.txt', { content: Buffer.from(a), mode: 0o644 }, { content: Buffer.from(b), mode: 0o644 });
  writeFileSync(join(tmp, 'f.txt'), a);
  writeFileSync(join(tmp, 'p.diff'), d.text);
  execFileSync('git', ['apply', '--unsafe-paths', '--directory=', 'p.diff'], { cwd: tmp });
  expect(readFileSync(join(tmp, 'f.txt'), 'utf8')).toBe(b);
  return d.hunks;
}

const lines = (n: number, f = (i: number) => `line ${i}`) => Array.from({ length: n }, (_, i) => `${f(i)}\n`).join('');

describe('line diff', () => {
  it('finds a minimal edit script', () => {
    const changed = hunks('a\nb\nc\na\nb\nb\na\n', 'c\nb\na\nb\na\nc\n')
      .flatMap((h) => h.lines)
      .filter((l) => l[0] === '-' || l[0] === '+');
    expect(changed).toHaveLength(5); // the classic Myers example: D = 5
  });

  it('marks a missing final newline', () => {
    expect(fileDiff('f', { content: Buffer.from('a\nb'), mode: 0o644 }, { content: Buffer.from('a\nc'), mode: 0o644 }).text).toContain(
      '@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+c\n\\ No newline at end of file\n',
    );
  });

  it('one changed line: one hunk with 3 lines of context', () => {
    const a = lines(20);
    const b = a.replace('line 10\n', 'line ten\n');
    const hs = hunks(a, b);
    expect(hs).toHaveLength(1);
    expect(hs[0]).toMatchObject({ oldStart: 8, oldLines: 7, newStart: 8, newLines: 7 });
    expect(roundTrip(a, b)).toBe(1);
  });

  it('distant changes make separate hunks, close ones merge', () => {
    const a = lines(40);
    expect(roundTrip(a, a.replace('line 2\n', 'X\n').replace('line 30\n', 'Y\n'))).toBe(2);
    expect(roundTrip(a, a.replace('line 2\n', 'X\n').replace('line 8\n', 'Y\n'))).toBe(1);
  });

  it.each([
    ['insert at start', 'a\nb\n', 'x\na\nb\n'],
    ['append', 'a\nb\n', 'a\nb\nc\n'],
    ['delete all', 'a\nb\n', ''],
    ['from empty', '', 'a\n'],
    ['no newline at end, added', 'a\nb', 'a\nb\n'],
    ['no newline at end, removed', 'a\nb\n', 'a\nb'],
    ['one byte', 'port = 8000\n', 'port = 8001\n'],
    ['rewrite', lines(50), lines(50, (i) => `other ${i}`)],
  ])('%s: git apply reproduces the target', (_name, a, b) => {
    roundTrip(a, b);
  });

  it('a diff too large to compute is one hunk replacing everything', () => {
    const a = lines(2100);
    const b = `${lines(2100, (i) => `other ${i}`)}tail`;
    expect(hunks(a, b).map((h) => [h.oldStart, h.oldLines, h.newStart, h.newLines])).toEqual([[1, 2100, 1, 2101]]);
    expect(roundTrip(a, b)).toBe(1);
  });

  it('git headers for mode changes, deletions and binaries', () => {
    const f = { content: Buffer.from('x\n'), mode: 0o644 };
    expect(fileDiff('run.sh', f, { ...f, mode: 0o755 })).toEqual({ text: 'diff --git a/run.sh b/run.sh\nold mode 100644\nnew mode 100755\n', hunks: 0 });
    expect(fileDiff('gone', f, undefined).text).toContain('deleted file mode 100644\n--- a/gone\n+++ /dev/null\n@@ -1 +0,0 @@\n-x\n');
    expect(fileDiff('img', { content: Buffer.from([0, 1]), mode: 0o644 }, { content: Buffer.from([0, 2]), mode: 0o644 }).text).toContain(
      'Binary files a/img and b/img differ',
    );
  });
});
