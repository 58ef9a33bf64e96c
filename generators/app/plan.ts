/**
 * What committing a rendered tree into a directory would do to each file, and
 * the refusals (paths outside DIR, symbolic links, non-directories). Node
 * builtins only: --dry-run and the conflict check never load the writer.
 */
import { lstatSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import type { RenderedTree } from './render.js';
import { UsageError } from './options.js';

export type FileStatus = 'new' | 'identical' | 'conflict';

/** What committing `tree` into `dir` would do to each file; refuses unsafe targets. */
export function planWrite(dir: string, tree: RenderedTree, readFile: (p: string) => Buffer): Map<string, FileStatus> {
  const root = resolve(dir);
  const plan = new Map<string, FileStatus>();
  for (const [rel, file] of tree) {
    const target = resolve(root, rel);
    if (!target.startsWith(root + sep)) throw new UsageError(`refusing to write ${rel}: outside ${dir}`);
    // every existing ancestor must be a real directory (never follow a symlink out of DIR)
    const parts = rel.split('/');
    let cur = root;
    let status: FileStatus = 'new';
    for (let i = 0; i < parts.length; i++) {
      cur = join(cur, parts[i]!);
      let st: Stats;
      try {
        st = lstatSync(cur);
      } catch {
        break;
      }
      const last = i === parts.length - 1;
      if (st.isSymbolicLink()) throw new UsageError(`refusing to write ${rel}: ${cur} is a symbolic link`);
      if (!last && !st.isDirectory()) throw new UsageError(`cannot write ${rel}: ${cur} exists and is not a directory`);
      if (last) {
        if (!st.isFile()) throw new UsageError(`cannot write ${rel}: ${cur} exists and is not a regular file`);
        const same = readFile(cur).equals(file.content) && (st.mode & 0o777) === file.mode;
        status = same ? 'identical' : 'conflict';
      }
    }
    plan.set(rel, status);
  }
  return plan;
}

