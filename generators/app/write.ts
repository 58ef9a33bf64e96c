/**
 * Commit a rendered tree to disk through yeoman-generator's in-memory file
 * system (mem-fs + mem-fs-editor): every file is rendered and staged in memory
 * first, then committed in one pass. Nothing is written when rendering fails.
 *
 * yeoman-environment (the usual runner) is not used: importing it costs ~1.5 s.
 * The generator is hosted by a minimal environment (cwd, sharedFs, adapter) and
 * its `writing` phase is driven directly.
 */
import { lstatSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import type { Stats } from 'node:fs';
import Generator from 'yeoman-generator';
import { create as createMemFs } from 'mem-fs';
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

interface MinimalEnv {
  cwd: string;
  sharedFs: ReturnType<typeof createMemFs>;
  adapter: { log: (...args: unknown[]) => void };
  getVersion: () => undefined;
}

class ServiceGenerator extends Generator {
  declare tree: RenderedTree;

  writing(): void {
    for (const [rel, file] of this.tree) {
      this.fs.write(this.destinationPath(rel), file.content, { stat: { mode: file.mode } as Stats });
    }
  }
}

/** Stage every file in mem-fs, then commit them (and only them) to `dir`. */
export async function commitTree(dir: string, tree: RenderedTree): Promise<void> {
  const root = resolve(dir);
  const log = Object.assign(() => {}, { write() {}, writeln() {}, ok() {}, error() {}, info() {} });
  const env: MinimalEnv = { cwd: root, sharedFs: createMemFs(), adapter: { log }, getVersion: () => undefined };
  const gen = new ServiceGenerator([], {
    env: env as never,
    resolved: import.meta.filename ?? root,
    namespace: 'agent-service:app',
    destinationRoot: root,
    skipCache: true,
    localConfigOnly: true,
  } as never);
  gen.tree = tree;
  gen.writing();
  const ours = new Set([...tree.keys()].map((rel) => resolve(root, rel)));
  await gen.fs.commit({ filter: (f: { path: string }) => ours.has(f.path) } as never);
}
