import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { diffLines, fileDiff, hunks, splitLines } from '../../generators/drift/textdiff.js';

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
    const ops = diffLines(['a', 'b', 'c', 'a', 'b', 'b', 'a'], ['c', 'b', 'a', 'b', 'a', 'c']);
    expect(ops.filter((o) => o.kind !== 'equal')).toHaveLength(5); // the classic Myers example: D = 5
  });

  it('keeps line terminators so a missing final newline shows', () => {
    expect(splitLines('a\nb')).toEqual(['a\n', 'b']);
    expect(splitLines('')).toEqual([]);
  });

  it('one changed line: one hunk with 3 lines of context', () => {
    const a = lines(20);
    const b = a.replace('line 10\n', 'line ten\n');
    const hs = hunks(a, b);
    expect(hs).toHaveLength(1);
    expect(hs[0]).toMatchObject({ aStart: 8, aLines: 7, bStart: 8, bLines: 7 });
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

  it('git headers for mode changes, deletions and binaries', () => {
    const f = { content: Buffer.from('x\n'), mode: 0o644 };
    expect(fileDiff('run.sh', f, { ...f, mode: 0o755 })).toEqual({ text: 'diff --git a/run.sh b/run.sh\nold mode 100644\nnew mode 100755\n', hunks: 0 });
    expect(fileDiff('gone', f, undefined).text).toContain('deleted file mode 100644\n--- a/gone\n+++ /dev/null\n@@ -1 +0,0 @@\n-x\n');
    expect(fileDiff('img', { content: Buffer.from([0, 1]), mode: 0o644 }, { content: Buffer.from([0, 2]), mode: 0o644 }).text).toContain(
      'Binary files a/img and b/img differ',
    );
  });
});
