/**
 * Line-wise 3-way merge of one file with `git merge-file -p --diff3` (the
 * standard tool: the same merge git itself runs, standard conflict markers with
 * the base section shown). Returns the merged text and the number of conflicts.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../app/errors.js';

export interface MergeResult {
  content: Buffer;
  conflicts: number;
}

export interface MergeLabels {
  ours: string;
  base: string;
  theirs: string;
}

export function mergeFile(ours: Buffer, base: Buffer, theirs: Buffer, labels: MergeLabels): MergeResult {
  const tmp = mkdtempSync(join(tmpdir(), 'cas-merge-'));
  try {
    const files = ['ours', 'base', 'theirs'].map((n) => join(tmp, n));
    writeFileSync(files[0]!, ours);
    writeFileSync(files[1]!, base);
    writeFileSync(files[2]!, theirs);
    const res = spawnSync('git', ['merge-file', '-p', '--diff3', '-L', labels.ours, '-L', labels.base, '-L', labels.theirs, ...files], {
      maxBuffer: 1 << 30,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (res.error) throw new UsageError(`update needs git for 3-way merges (git merge-file): ${res.error.message}`);
    // exit status: the number of conflicts (capped at 127), or 255 on error
    if (res.status === null || res.status > 127) throw new UsageError(`git merge-file failed: ${res.stderr.toString().trim()}`);
    return { content: res.stdout, conflicts: res.status };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
