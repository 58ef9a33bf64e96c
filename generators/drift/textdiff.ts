/**
 * Git-style unified diffs of one file, for `check`: the line diff and its hunks
 * come from jsdiff (`diff`); this module adds git's headers (mode lines,
 * new/deleted file, binary files) so the output can be applied with `git apply`
 * (test/drift/textdiff.test.ts checks that).
 */
import { type StructuredPatchHunk, structuredPatch } from 'diff';
import type { RenderedFile } from '../app/render.js';

/** Lines of context around each change, as `git diff`. */
const CONTEXT = 3;
/** Above this many changed lines the diff is one replace hunk (bounded time and memory). */
const MAX_EDIT_LENGTH = 4000;
const NO_NEWLINE = '\\ No newline at end of file';

/** A NUL byte in the first 8000 bytes: git's own heuristic for binary content. */
export function isBinary(buf: Buffer): boolean {
  return buf.subarray(0, 8000).includes(0);
}

/** Lines with their terminators dropped, "\ No newline" after a last line that lacks one (diff's own notation). */
function prefixed(prefix: string, text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  const last = lines.pop();
  const out = lines.map((l) => prefix + l);
  if (last !== '') out.push(prefix + last, NO_NEWLINE);
  return out;
}

const lineCount = (text: string): number => (text === '' ? 0 : text.split('\n').length - (text.endsWith('\n') ? 1 : 0));

/** The hunks from `a` to `b`: jsdiff's, or one hunk replacing everything when the diff is too large. */
export function hunks(a: string, b: string): StructuredPatchHunk[] {
  const patch = structuredPatch('a', 'b', a, b, undefined, undefined, { context: CONTEXT, maxEditLength: MAX_EDIT_LENGTH });
  if (patch) return patch.hunks;
  const oldLines = lineCount(a);
  const newLines = lineCount(b);
  return [{ oldStart: 1, oldLines, newStart: 1, newLines, lines: [...prefixed('-', a), ...prefixed('+', b)] }];
}

/** A hunk header as git writes it: a count of 1 is left out, an empty side starts one line earlier. */
function hunkHeader(h: StructuredPatchHunk): string {
  const range = (start: number, count: number): string => (count === 1 ? `${start}` : `${count === 0 ? start - 1 : start},${count}`);
  return `@@ -${range(h.oldStart, h.oldLines)} +${range(h.newStart, h.newLines)} @@`;
}

function formatHunks(hs: readonly StructuredPatchHunk[]): string {
  return hs.map((h) => `${[hunkHeader(h), ...h.lines].join('\n')}\n`).join('');
}

export interface FileDiff {
  text: string;
  hunks: number;
}

const gitMode = (mode: number): string => ((mode & 0o111) !== 0 ? '100755' : '100644');

/**
 * A git-style diff of one file from `a` (expected) to `b` (actual): mode lines,
 * new/deleted file headers, `Binary files ... differ`. `git apply` accepts it.
 */
export function fileDiff(path: string, a: RenderedFile | undefined, b: RenderedFile | undefined): FileDiff {
  const head = [`diff --git a/${path} b/${path}\n`];
  if (!a && b) head.push(`new file mode ${gitMode(b.mode)}\n`);
  else if (a && !b) head.push(`deleted file mode ${gitMode(a.mode)}\n`);
  else if (a && b && gitMode(a.mode) !== gitMode(b.mode)) head.push(`old mode ${gitMode(a.mode)}\n`, `new mode ${gitMode(b.mode)}\n`);
  const aBuf = a?.content ?? Buffer.alloc(0);
  const bBuf = b?.content ?? Buffer.alloc(0);
  if (aBuf.equals(bBuf)) return { text: head.join(''), hunks: 0 };
  const aName = a ? `a/${path}` : '/dev/null';
  const bName = b ? `b/${path}` : '/dev/null';
  if (isBinary(aBuf) || isBinary(bBuf)) return { text: `${head.join('')}Binary files ${aName} and ${bName} differ\n`, hunks: 1 };
  const hs = hunks(aBuf.toString('utf8'), bBuf.toString('utf8'));
  return { text: `${head.join('')}--- ${aName}\n+++ ${bName}\n${formatHunks(hs)}`, hunks: hs.length };
}
