/**
 * Line diff (Myers' O(ND) algorithm) and git-style unified diffs.
 *
 * Why our own and not the `diff` package (jsdiff, the usual choice): the generator
 * ships as one bundled file with a size budget, the need is narrow (line diffs of
 * small text files, hunks with 3 lines of context, git's headers so the output can
 * be applied with `git apply`), and it is ~150 tested lines
 * (test/drift/textdiff.test.ts checks the output with `git apply`).
 */

export type Op = { kind: 'equal' | 'delete' | 'insert'; a: number; b: number };

/** Split into lines, keeping each line's terminator, so "no newline at end" is visible. */
export function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split(/(?<=\n)/);
  return lines;
}

/** Above this edit distance the diff is reported as one replace hunk (bounded time and memory). */
const MAX_D = 4000;

/**
 * Edit script turning `a` into `b`: a list of equal/delete/insert operations, each
 * naming the index in a (for equal/delete) and in b (for equal/insert).
 */
export function diffLines(a: readonly string[], b: readonly string[]): Op[] {
  // Trim the common prefix and suffix: the usual case is a few changed lines.
  let pre = 0;
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
  let suf = 0;
  while (suf < a.length - pre && suf < b.length - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf]) suf++;
  const ops: Op[] = [];
  for (let i = 0; i < pre; i++) ops.push({ kind: 'equal', a: i, b: i });
  const A = a.slice(pre, a.length - suf);
  const B = b.slice(pre, b.length - suf);
  for (const op of myers(A, B)) ops.push({ kind: op.kind, a: op.a + pre, b: op.b + pre });
  for (let i = 0; i < suf; i++) ops.push({ kind: 'equal', a: a.length - suf + i, b: b.length - suf + i });
  return ops;
}

function myers(a: readonly string[], b: readonly string[]): Op[] {
  const n = a.length;
  const m = b.length;
  const replaceAll = (): Op[] => [
    ...a.map((_, i) => ({ kind: 'delete' as const, a: i, b: 0 })),
    ...b.map((_, j) => ({ kind: 'insert' as const, a: n, b: j })),
  ];
  if (n === 0 || m === 0) return replaceAll();
  const max = Math.min(n + m, MAX_D);
  const offset = max + 1;
  let v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  let found = -1;
  for (let d = 0; d <= max; d++) {
    trace.push(v.slice());
    const next = v.slice();
    for (let k = -d; k <= d; k += 2) {
      let x: number;
      if (k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!)) x = v[offset + k + 1]!;
      else x = v[offset + k - 1]! + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      next[offset + k] = x;
      if (x >= n && y >= m) {
        found = d;
        break;
      }
    }
    v = next;
    if (found >= 0) {
      trace.push(v);
      break;
    }
  }
  if (found < 0) return replaceAll();
  // Backtrack through the saved frontiers.
  const rev: Op[] = [];
  let x = n;
  let y = m;
  for (let d = found; d > 0; d--) {
    const vd = trace[d]!; // frontier before step d
    const k = x - y;
    let prevK: number;
    if (k === -d || (k !== d && vd[offset + k - 1]! < vd[offset + k + 1]!)) prevK = k + 1;
    else prevK = k - 1;
    const prevX = vd[offset + prevK]!;
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      x--;
      y--;
      rev.push({ kind: 'equal', a: x, b: y });
    }
    if (x === prevX) {
      y--;
      rev.push({ kind: 'insert', a: x, b: y });
    } else {
      x--;
      rev.push({ kind: 'delete', a: x, b: y });
    }
  }
  while (x > 0 && y > 0) {
    x--;
    y--;
    rev.push({ kind: 'equal', a: x, b: y });
  }
  return rev.reverse();
}

export interface Hunk {
  aStart: number;
  aLines: number;
  bStart: number;
  bLines: number;
  lines: string[];
}

const NO_NL = '\\ No newline at end of file\n';

function emit(prefix: string, line: string): string[] {
  return line.endsWith('\n') ? [prefix + line] : [`${prefix}${line}\n`, NO_NL];
}

/** Unified-diff hunks with `context` lines of context. */
export function hunks(aText: string, bText: string, context = 3): Hunk[] {
  const a = splitLines(aText);
  const b = splitLines(bText);
  const ops = diffLines(a, b);
  const out: Hunk[] = [];
  let i = 0;
  while (i < ops.length) {
    while (i < ops.length && ops[i]!.kind === 'equal') i++;
    if (i >= ops.length) break;
    // a change starts at i; the hunk starts `context` equal ops before it
    let start = i;
    let ctx = 0;
    while (start > 0 && ctx < context && ops[start - 1]!.kind === 'equal') {
      start--;
      ctx++;
    }
    // extend while the gap of equal lines between changes is <= 2*context
    let end = i;
    for (;;) {
      while (end < ops.length && ops[end]!.kind !== 'equal') end++;
      let gap = 0;
      while (end + gap < ops.length && ops[end + gap]!.kind === 'equal') gap++;
      if (end + gap < ops.length && gap <= 2 * context) end += gap;
      else {
        end += Math.min(gap, context);
        break;
      }
    }
    const slice = ops.slice(start, end);
    const first = slice[0]!;
    const h: Hunk = {
      aStart: first.a + 1,
      bStart: first.b + 1,
      aLines: slice.filter((o) => o.kind !== 'insert').length,
      bLines: slice.filter((o) => o.kind !== 'delete').length,
      lines: [],
    };
    if (h.aLines === 0) h.aStart -= 1;
    if (h.bLines === 0) h.bStart -= 1;
    for (const o of slice) {
      if (o.kind === 'equal') h.lines.push(...emit(' ', a[o.a]!));
      else if (o.kind === 'delete') h.lines.push(...emit('-', a[o.a]!));
      else h.lines.push(...emit('+', b[o.b]!));
    }
    out.push(h);
    i = end;
  }
  return out;
}

const range = (start: number, count: number): string => (count === 1 ? `${start}` : `${start},${count}`);

export function formatHunks(hs: readonly Hunk[]): string {
  return hs.map((h) => `@@ -${range(h.aStart, h.aLines)} +${range(h.bStart, h.bLines)} @@\n${h.lines.join('')}`).join('');
}

/** A NUL byte in the first 8000 bytes: git's own heuristic for binary content. */
export function isBinary(buf: Buffer): boolean {
  return buf.subarray(0, 8000).includes(0);
}

export interface FileSide {
  content: Buffer;
  mode: number;
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
export function fileDiff(path: string, a: FileSide | undefined, b: FileSide | undefined): FileDiff {
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
