/**
 * Glob matching for `ownedPaths` (paths relative to the project root, `/`-separated),
 * with picomatch's POSIX matcher (the same result on every platform).
 *
 * Syntax (picomatch's, with dotfiles matched and POSIX brackets on, so `[!a-c]` negates):
 *   *        any run of characters except `/`
 *   ?        one character except `/`
 *   **       as a whole segment: zero or more segments (`src/** /x.py`, `deploy/**`)
 *   [abc] [a-z] [!a-z]   one character from (or not from) the class
 *   {a,b}    either alternative
 *   \c       the character c, literally
 * A pattern also matches everything below a directory it matches, so `deploy/grafana`,
 * `deploy/grafana/` and `deploy/grafana/**` all own the whole folder. A leading `./`
 * is ignored.
 */
import picomatch from 'picomatch/posix.js';

export class GlobError extends Error {
  constructor(pattern: string, problem: string) {
    super(`glob "${pattern}" ${problem}`);
  }
}

const cache = new Map<string, (path: string) => boolean>();

/** A matcher for `pattern`; throws GlobError for a pattern that can match nothing by mistake. */
export function compileGlob(pattern: string): (path: string) => boolean {
  const hit = cache.get(pattern);
  if (hit) return hit;
  const p = pattern.replace(/^\.\//, '').replace(/\/+$/, '');
  if (p === '') throw new GlobError(pattern, 'is empty');
  if (/(^|[^\\])(\\\\)*\\$/.test(p)) throw new GlobError(pattern, 'ends with a lone "\\"');
  const isMatch = picomatch([p, `${p}/**`], { dot: true, posix: true });
  cache.set(pattern, isMatch);
  return isMatch;
}

export function matchesGlob(path: string, pattern: string): boolean {
  return compileGlob(pattern)(path);
}

/** The first pattern that matches `path`, or undefined. */
export function matchingGlob(path: string, patterns: readonly string[]): string | undefined {
  return patterns.find((p) => matchesGlob(path, p));
}
