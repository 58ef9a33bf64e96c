/** Reading the project as it is, and writing changes to it atomically. */
import { chmodSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, rmdirSync, rmSync, type Stats, writeFileSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { UsageError } from '../app/errors.js';
import type { RenderedFile } from '../app/render.js';

/** On Windows the executable bit is not recorded by the file system: compare content only. */
export const MODES_MATTER = process.platform !== 'win32';

export const execBit = (mode: number): number => ((mode & 0o111) !== 0 ? 0o755 : 0o644);

export interface DiskFile extends RenderedFile {
  /** not a regular file (symlink, directory, ...): never equal to a generated file */
  special?: string;
}

/** The project's file at `rel`, or undefined when there is none. */
export function readProjectFile(dir: string, rel: string): DiskFile | undefined {
  const abs = join(dir, ...rel.split('/'));
  let st: Stats;
  try {
    st = lstatSync(abs);
  } catch {
    return undefined;
  }
  if (st.isSymbolicLink()) return { content: Buffer.from(`symbolic link to ${readlinkSync(abs)}\n`), mode: 0o644, special: 'a symbolic link' };
  if (st.isDirectory()) return { content: Buffer.from('(a directory)\n'), mode: 0o755, special: 'a directory' };
  if (!st.isFile()) return { content: Buffer.from('(not a regular file)\n'), mode: 0o644, special: 'not a regular file' };
  return { content: readFileSync(abs), mode: execBit(st.mode) };
}

export function sameContent(a: RenderedFile | undefined, b: RenderedFile | undefined): boolean {
  if (!a || !b) return a === b;
  return a.content.equals(b.content);
}

export function sameFile(a: RenderedFile | undefined, b: RenderedFile | undefined): boolean {
  if (!a || !b) return a === b;
  if ((a as DiskFile).special || (b as DiskFile).special) return false;
  return a.content.equals(b.content) && (!MODES_MATTER || execBit(a.mode) === execBit(b.mode));
}

export type Change = { path: string; file: RenderedFile } | { path: string; delete: true };

function safeTarget(root: string, rel: string): string {
  const target = resolve(root, ...rel.split('/'));
  if (!target.startsWith(root + sep)) throw new UsageError(`refusing to write ${rel}: outside ${root}`);
  // never follow a symlinked ancestor out of the project
  let cur = root;
  for (const part of rel.split('/').slice(0, -1)) {
    cur = join(cur, part);
    try {
      const st = lstatSync(cur);
      if (st.isSymbolicLink()) throw new UsageError(`refusing to write ${rel}: ${cur} is a symbolic link`);
      if (!st.isDirectory()) throw new UsageError(`cannot write ${rel}: ${cur} exists and is not a directory`);
    } catch (err) {
      if (err instanceof UsageError) throw err;
      break;
    }
  }
  return target;
}

/**
 * Apply `changes` as close to all-or-nothing as a file system allows: every new
 * content is first written to a temporary file beside its target (a failure here
 * removes them all and changes nothing), then each is renamed over its target
 * (atomic per file), then deletions run, emptied folders are removed.
 */
export function applyChanges(dir: string, changes: readonly Change[]): void {
  const root = resolve(dir);
  const staged: { tmp: string; target: string }[] = [];
  try {
    for (const c of changes) {
      const target = safeTarget(root, c.path);
      if ('delete' in c) continue;
      mkdirSync(dirname(target), { recursive: true });
      const tmp = `${target}.cas-tmp-${process.pid}`;
      writeFileSync(tmp, c.file.content);
      if (MODES_MATTER) chmodSync(tmp, c.file.mode);
      staged.push({ tmp, target });
    }
  } catch (err) {
    for (const s of staged) rmSync(s.tmp, { force: true });
    throw err;
  }
  for (const s of staged) renameSync(s.tmp, s.target);
  for (const c of changes) {
    if (!('delete' in c)) continue;
    const target = safeTarget(root, c.path);
    rmSync(target, { force: true });
    // remove folders the deletion emptied, up to the project root
    let d = dirname(target);
    while (d.startsWith(root + sep)) {
      try {
        if (readdirSync(d).length > 0) break;
        rmdirSync(d);
      } catch {
        break;
      }
      d = dirname(d);
    }
  }
}
