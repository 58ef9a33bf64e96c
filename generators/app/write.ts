/**
 * Write a rendered tree into DIR, after fileStatuses() has checked every target
 * (inside DIR, no symbolic link on the way, no directory where a file goes) and
 * the caller has refused conflicts unless --force.
 *
 * - a new file is created exclusively (O_EXCL): a file that appeared since the
 *   check is never overwritten, and a symbolic link put there is never followed;
 * - an existing file that differs (--force) is written to a temporary file beside
 *   it and renamed over it: it is either the old file or the new one, never half;
 * - an identical file is left alone;
 * - if any write fails, the files this call created and its temporary files are
 *   removed (and the directories it created, once empty) before the error is
 *   thrown, so a failed run leaves no half project.
 *
 * Hand-written rather than yeoman-generator's mem-fs commit: loading yeoman and
 * mem-fs and its stream pipeline cost more than the file system calls for ~120
 * small files (`npm run bench -- --only generator`), and mem-fs-editor writes
 * over an existing file in place. Synchronous node:fs calls: nothing else runs
 * meanwhile, and each call is a few microseconds.
 */
import { closeSync, fchmodSync, mkdirSync, openSync, renameSync, rmdirSync, rmSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { RenderedTree } from './render.js';
import type { FileStatus } from './write-check.js';

/** Write `content` into a file that must not exist yet, with exactly `mode` (whatever the umask). */
function createFile(path: string, content: Buffer, mode: number): void {
  const fd = openSync(path, 'wx', mode);
  try {
    let off = 0;
    while (off < content.length) off += writeSync(fd, content, off, content.length - off);
    fchmodSync(fd, mode);
  } finally {
    closeSync(fd);
  }
}

export function writeTree(dir: string, tree: RenderedTree, statuses: ReadonlyMap<string, FileStatus>): void {
  const root = resolve(dir);
  const created: string[] = [];
  const staged: { tmp: string; target: string }[] = [];
  const madeDirs = new Set<string>();
  const createdDirs: string[] = [];
  try {
    for (const [rel, file] of tree) {
      const status = statuses.get(rel);
      if (status === undefined) throw new Error(`internal: ${rel} was not checked before writing`);
      if (status === 'identical') continue;
      const target = join(root, ...rel.split('/'));
      const parent = dirname(target);
      if (!madeDirs.has(parent)) {
        const first = mkdirSync(parent, { recursive: true });
        if (first !== undefined) for (let d = parent; d.length >= first.length; d = dirname(d)) createdDirs.push(d);
        madeDirs.add(parent);
      }
      if (status === 'new') {
        createFile(target, file.content, file.mode);
        created.push(target);
      } else {
        const tmp = `${target}.cas-tmp-${process.pid}`;
        createFile(tmp, file.content, file.mode);
        staged.push({ tmp, target });
      }
    }
    while (staged.length > 0) {
      renameSync(staged[0]!.tmp, staged[0]!.target);
      staged.shift();
    }
  } catch (err) {
    for (const p of [...created, ...staged.map((s) => s.tmp)]) rmSync(p, { force: true });
    for (const d of createdDirs.sort((a, b) => b.length - a.length)) {
      try {
        rmdirSync(d);
      } catch {
        // not empty: something else was put there meanwhile
      }
    }
    throw err;
  }
}
