/**
 * The template pack: every ejs template of templates/ precompiled at build time
 * (scripts/build.mjs -> dist/templates.cjs) so a run compiles no template.
 *
 * The pack holds only compiled template functions and what is needed to tell
 * whether they still match templates/: verbatim files, lock files and
 * executable bits are always read from templates/ itself. A pack is used only
 * when it is fresh for the layers being rendered (see `packIsFresh`); a stale
 * pack (a template edited, added or removed after the build) is never used:
 * rendering falls back to compiling the live templates, so what a developer
 * tests is what templates/ holds.
 *
 * The functions are ejs "client" functions, compiled with exactly the options
 * render.ts passes to ejs.render (strict: false, so ejs wraps the body in
 * `with (locals)`): the pack is a CommonJS file because `with` is not allowed in
 * an ES module. Called with the same locals and an `include` that behaves like
 * ejs's own, they return byte-identical output (test/cli/pack.test.ts).
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, posix } from 'node:path';

/** A compiled ejs client function: (locals, escapeFn, include, rethrow) -> text. */
export type TemplateFn = (locals: object, escapeFn: undefined, include: (path: string, data?: object) => string, rethrow: undefined) => string;

export interface TemplatePack {
  /** format version of this object */
  format: 1;
  /** `templatesHash` of the templates/ the pack was built from */
  hash: string;
  /** every file under templates/ except locks/ (posix, relative) -> size in bytes */
  sizes: Record<string, number>;
  /** compiled templates as rendered directly (text read as utf8, BOM kept) */
  top: Record<string, TemplateFn>;
  /** compiled templates as ejs include() loads them (BOM stripped) */
  inc: Record<string, TemplateFn>;
  /** template -> files its literal include() calls load (checked for freshness too) */
  deps: Record<string, string[]>;
}

export interface LoadedPack {
  pack: TemplatePack;
  /** modification time of the pack file: a template newer than it is checked by content */
  mtimeMs: number;
}

export const PACK_FORMAT = 1;
/** Relative to the package root. */
export const PACK_FILE = join('dist', 'templates.cjs');

/** Load the pack next to the bundle; undefined when there is none (or it cannot be read). */
export function loadPack(packageRoot: string): LoadedPack | undefined {
  const file = join(packageRoot, PACK_FILE);
  let mtimeMs: number;
  try {
    mtimeMs = statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
  const pack = createRequire(import.meta.url)(file) as TemplatePack;
  if (pack.format !== PACK_FORMAT) return undefined;
  return { pack, mtimeMs };
}

/** Where ejs would look for include(name) from template `from` (posix, relative), or undefined if outside. */
export function includeKey(from: string, name: string): string | undefined {
  if (/^[A-Za-z]+:\\|^\//.test(name)) return undefined;
  let key = posix.normalize(posix.join(posix.dirname(from), name));
  if (!posix.extname(name)) key += '.ejs';
  if (key.startsWith('../') || key === '..' || posix.isAbsolute(key)) return undefined;
  return key;
}

/** Every file under `dir` (posix, relative, sorted), skipping the top-level locks/ folder. */
export function templateFiles(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) {
      if (rel !== 'locks') out.push(...templateFiles(dir, rel));
    } else if (e.isFile()) out.push(rel);
  }
  return out.sort();
}

/** Content hash of templates/ as the pack sees it: every path and its bytes, locks/ excluded. */
export function templatesHash(dir: string): string {
  const h = createHash('sha256');
  for (const rel of templateFiles(dir)) {
    h.update(`${rel}\0`);
    h.update(readFileSync(join(dir, rel)));
    h.update('\0');
  }
  return h.digest('hex');
}

/**
 * Is `loaded` an exact compilation of what templates/ holds for these files?
 * `files` are every file of the active layers (posix, relative to templatesDir)
 * as listed now, with their stats. Cheap check first (same file set, same sizes,
 * nothing modified after the pack was written); if that is inconclusive (an
 * edit, a git checkout, a copy that reset modification times), the content hash
 * of templates/ decides.
 */
export function packIsFresh(
  loaded: LoadedPack,
  templatesDir: string,
  layers: string[],
  files: Map<string, { size: number; mtimeMs: number }>,
): boolean {
  const { pack, mtimeMs } = loaded;
  const cheap = (): boolean => {
    const prefixes = layers.map((l) => `${l}/`);
    let expected = 0;
    const deps = new Set<string>();
    for (const rel of Object.keys(pack.sizes)) {
      if (!prefixes.some((p) => rel.startsWith(p))) continue;
      expected++;
      for (const d of pack.deps[rel] ?? []) deps.add(d);
    }
    if (expected !== files.size) return false;
    for (const [rel, st] of files) if (pack.sizes[rel] !== st.size || st.mtimeMs > mtimeMs) return false;
    for (const d of deps) {
      if (files.has(d)) continue;
      try {
        const st = statSync(join(templatesDir, d));
        if (pack.sizes[d] !== st.size || st.mtimeMs > mtimeMs) return false;
      } catch {
        return false;
      }
    }
    return true;
  };
  return cheap() || templatesHash(templatesDir) === pack.hash;
}
