/**
 * Glob matching for `ownedPaths` (paths relative to the project root, `/`-separated).
 *
 * Why not node:path's matchesGlob: it exists on Node 20.17+, but is experimental
 * there (it prints an ExperimentalWarning on stderr at first use, which would land
 * in the output of `check` in CI) and its semantics moved between releases. Why not
 * picomatch: a dependency for ~60 lines. This matcher is small, tested
 * (test/drift/glob.test.ts) and the same on every Node version.
 *
 * Syntax:
 *   *        any run of characters except `/` (dotfiles included)
 *   ?        one character except `/`
 *   **       as a whole segment: zero or more segments (`src/** /x.py`, `deploy/**`)
 *   [abc] [a-z] [!a-z]   one character from (or not from) the class
 *   {a,b}    either alternative (may contain the other wildcards; not nested)
 *   \c       the character c, literally
 * A pattern also matches everything below a directory it matches, so `deploy/grafana`,
 * `deploy/grafana/` and `deploy/grafana/**` all own the whole folder.
 */

const cache = new Map<string, RegExp>();

function escapeRe(c: string): string {
  return /[\\^$.*+?()[\]{}|/-]/.test(c) ? `\\${c}` : c;
}

function segmentToRe(seg: string, pattern: string): string {
  let out = '';
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i]!;
    if (c === '\\') {
      const next = seg[i + 1];
      if (next === undefined) throw new GlobError(pattern, 'ends with a lone "\\"');
      out += escapeRe(next);
      i++;
    } else if (c === '*') {
      while (seg[i + 1] === '*') i++; // `a**b` inside a segment is just `*`
      out += '[^/]*';
    } else if (c === '?') {
      out += '[^/]';
    } else if (c === '[') {
      const close = seg.indexOf(']', i + 2);
      if (close === -1) {
        out += '\\[';
        continue;
      }
      let body = seg.slice(i + 1, close);
      let negate = false;
      if (body[0] === '!' || body[0] === '^') {
        negate = true;
        body = body.slice(1);
      }
      const cls = body.replace(/[\\\]^]/g, (m) => `\\${m}`);
      out += negate ? `(?!/)[^${cls}]` : `[${cls}]`;
      i = close;
    } else if (c === '{') {
      const close = seg.indexOf('}', i);
      if (close === -1) {
        out += '\\{';
        continue;
      }
      const alts = seg.slice(i + 1, close).split(',');
      out += `(?:${alts.map((a) => segmentToRe(a, pattern)).join('|')})`;
      i = close;
    } else {
      out += escapeRe(c);
    }
  }
  return out;
}

export class GlobError extends Error {
  constructor(pattern: string, problem: string) {
    super(`glob "${pattern}" ${problem}`);
  }
}

export function globToRegExp(pattern: string): RegExp {
  const hit = cache.get(pattern);
  if (hit) return hit;
  let p = pattern.replace(/^\.\//, '');
  while (p.endsWith('/')) p = p.slice(0, -1);
  if (p === '') throw new GlobError(pattern, 'is empty');
  // `{a,b/c}` may hold a `/`: split segments outside braces only.
  const segments: string[] = [];
  let depth = 0;
  let cur = '';
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '\\') {
      cur += c + (p[i + 1] ?? '');
      i++;
      continue;
    }
    if (c === '{') depth++;
    if (c === '}' && depth > 0) depth--;
    if (c === '/' && depth === 0) {
      segments.push(cur);
      cur = '';
    } else cur += c;
  }
  segments.push(cur);
  let re = '';
  segments.forEach((seg, idx) => {
    const last = idx === segments.length - 1;
    if (seg === '**') {
      // zero or more whole segments, each followed by `/` unless last
      re += last ? '(?:[^/]+(?:/[^/]+)*)?' : '(?:[^/]+/)*';
    } else {
      re += segmentToRe(seg, pattern) + (last ? '' : '/');
    }
  });
  // and everything under a matching directory
  const rx = new RegExp(`^${re}(?:/.*)?$`);
  cache.set(pattern, rx);
  return rx;
}

export function matchesGlob(path: string, pattern: string): boolean {
  return globToRegExp(pattern).test(path);
}

/** The first pattern that matches `path`, or undefined. */
export function matchingGlob(path: string, patterns: readonly string[]): string | undefined {
  return patterns.find((p) => matchesGlob(path, p));
}
