/**
 * Before writing: may DIR be written into, and what committing a rendered tree
 * there would do to each file, with the refusals (paths outside DIR, symbolic
 * links, non-directories). Node builtins only: --dry-run and the conflict check
 * never load the writer.
 */

import type { Stats } from 'node:fs';
import { existsSync, lstatSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { UsageError } from './errors.js';
import type { RenderedTree } from './render.js';

/** Refuse a DIR we must not write into; `label` names it in the message. */
export function checkTargetDir(dir: string, label: string, force: boolean): void {
  if (!existsSync(dir)) {
    // DIR will be created with its parents: each existing ancestor must be a directory
    for (let up = dirname(dir); up !== dirname(up); up = dirname(up))
      if (existsSync(up)) {
        if (!statSync(up).isDirectory()) throw new UsageError(`${label}: ${up} is a file, so ${dir} cannot be created`);
        break;
      }
    return;
  }
  if (!statSync(dir).isDirectory()) throw new UsageError(`${label}: ${dir} exists and is not a directory`);
  if (!force && readdirSync(dir).length > 0)
    throw new UsageError(`${label}: ${dir} is not empty (pass --force to write into it; files we do not generate are never touched)`);
}

export type FileStatus = 'new' | 'identical' | 'conflict';

/** What committing `tree` into `dir` would do to each file; refuses unsafe targets. */
export function fileStatuses(dir: string, tree: RenderedTree, readFile: (p: string) => Buffer): Map<string, FileStatus> {
  const root = resolve(dir);
  const statuses = new Map<string, FileStatus>();
  for (const [rel, file] of tree) {
    const target = resolve(root, rel);
    if (!target.startsWith(root + sep)) throw new UsageError(`refusing to write ${rel}: outside ${dir}`);
    // every existing ancestor must be a real directory (never follow a symlink out of DIR)
    const parts = rel.split('/');
    let cur = root;
    let status: FileStatus = 'new';
    for (let i = 0; i < parts.length; i++) {
      cur = join(cur, parts[i]!);
      let st: Stats | undefined;
      try {
        // no exception for a missing path: the usual case, every file of a new project
        st = lstatSync(cur, { throwIfNoEntry: false });
      } catch {
        break;
      }
      if (st === undefined) break;
      const last = i === parts.length - 1;
      if (st.isSymbolicLink()) throw new UsageError(`refusing to write ${rel}: ${cur} is a symbolic link`);
      if (!last && !st.isDirectory()) throw new UsageError(`cannot write ${rel}: ${cur} exists and is not a directory`);
      if (last) {
        if (!st.isFile()) throw new UsageError(`cannot write ${rel}: ${cur} exists and is not a regular file`);
        const same = readFile(cur).equals(file.content) && (st.mode & 0o777) === file.mode;
        status = same ? 'identical' : 'conflict';
      }
    }
    statuses.set(rel, status);
  }
  return statuses;
}
