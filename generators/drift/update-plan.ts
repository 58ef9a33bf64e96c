/**
 * The update plan: what `update` does with every generated file. Three trees:
 * base = what the recorded version emits for the saved answers, ours = DIR as
 * it is, theirs = what the target version emits for the answers migrated to it.
 * Per generated file:
 *
 *   ours == base              -> take theirs            (update / add / delete)
 *   theirs == base            -> keep ours              (keep)
 *   both changed              -> git merge-file --diff3 (merge, or conflict with markers)
 *   removed upstream, edited  -> keep ours, reported
 *   deleted by you            -> left deleted, reported
 *
 * ownedPaths and the answers file are never merged.
 */
import { ANSWERS_FILE } from '../app/answers-file.js';
import type { RenderedFile } from '../app/render.js';
import { matchingGlob } from './glob.js';
import { mergeFile } from './merge.js';
import { isBinary } from './textdiff.js';
import { type Change, type DiskFile, execBit, MODES_MATTER, readProjectFile, sameContent, sameFile } from './tree.js';

export type Action = 'update' | 'keep' | 'merge' | 'conflict' | 'add' | 'delete' | 'unchanged' | 'owned';

export interface FilePlan {
  path: string;
  action: Action;
  /** why, in one line */
  reason: string;
  /** the new content (update/merge/conflict/add) */
  result?: RenderedFile;
  conflicts?: number;
}

export interface Trees {
  base: Map<string, RenderedFile>;
  theirs: Map<string, RenderedFile>;
  from: string;
  to: string;
}

const mergedMode = (o: RenderedFile, b: RenderedFile, t: RenderedFile): number => (!MODES_MATTER || execBit(o.mode) === execBit(b.mode) ? t.mode : o.mode);

/** Decide what to do with every generated path. Pure apart from reading DIR and running git merge-file. */
export function planUpdate(dir: string, trees: Trees, ownedPaths: readonly string[]): FilePlan[] {
  const { base, theirs, from, to } = trees;
  const paths = [...new Set([...base.keys(), ...theirs.keys()])].filter((p) => p !== ANSWERS_FILE).sort();
  const labels = (path: string) => ({
    ours: `${path} (yours)`,
    base: `${path} (create-agent-service ${from})`,
    theirs: `${path} (create-agent-service ${to})`,
  });
  const plan: FilePlan[] = [];
  for (const path of paths) {
    const glob = matchingGlob(path, ownedPaths);
    if (glob) {
      plan.push({ path, action: 'owned', reason: `yours by ownedPaths "${glob}": not touched` });
      continue;
    }
    const b = base.get(path);
    const t = theirs.get(path);
    const o: DiskFile | undefined = readProjectFile(dir, path);
    if (o?.special) {
      plan.push({ path, action: 'conflict', reason: `is ${o.special} in your project: left alone, merge ${to}'s version by hand`, conflicts: 1 });
      continue;
    }
    if (b && t) {
      if (!o) {
        plan.push(
          sameFile(b, t)
            ? { path, action: 'unchanged', reason: 'you deleted it; the template did not change it: left deleted' }
            : {
                path,
                action: 'keep',
                reason: `you deleted it; ${to} changes it: left deleted (see it with create-agent-service --dry-run, or restore it from a fresh generation)`,
              },
        );
        continue;
      }
      if (sameFile(o, t)) {
        plan.push({ path, action: 'unchanged', reason: sameFile(b, t) ? 'as generated' : `already as in ${to}` });
        continue;
      }
      if (sameFile(o, b)) {
        plan.push({ path, action: 'update', reason: `changed by the template (${from} -> ${to}); you had not edited it: replaced`, result: t });
        continue;
      }
      if (sameFile(b, t)) {
        plan.push({ path, action: 'keep', reason: `you edited it; the template did not change it: kept yours` });
        continue;
      }
      // both changed (content and/or mode)
      const mode = mergedMode(o, b, t);
      if (sameContent(o, t) || sameContent(b, t)) {
        plan.push({
          path,
          action: 'merge',
          reason: `you and the template changed it (content/mode): combined, no conflict`,
          result: { content: o.content, mode },
        });
        continue;
      }
      if (sameContent(o, b)) {
        plan.push({
          path,
          action: 'merge',
          reason: `the template changed its content, you changed its mode: combined, no conflict`,
          result: { content: t.content, mode },
        });
        continue;
      }
      if (isBinary(o.content) || isBinary(b.content) || isBinary(t.content)) {
        plan.push({ path, action: 'conflict', reason: `binary, changed by you and by the template: kept yours, ${to}'s version not applied`, conflicts: 1 });
        continue;
      }
      const m = mergeFile(o.content, b.content, t.content, labels(path));
      plan.push(
        m.conflicts === 0
          ? {
              path,
              action: 'merge',
              reason: `you and the template (${from} -> ${to}) both changed it: merged line by line, no conflict`,
              result: { content: m.content, mode },
            }
          : {
              path,
              action: 'conflict',
              reason: `you and the template changed the same lines: ${m.conflicts} conflict${m.conflicts === 1 ? '' : 's'} marked <<<<<<< yours / ||||||| ${from} / >>>>>>> ${to}`,
              result: { content: m.content, mode },
              conflicts: m.conflicts,
            },
      );
      continue;
    }
    if (!b && t) {
      if (!o) plan.push({ path, action: 'add', reason: `new in ${to}`, result: t });
      else if (sameFile(o, t)) plan.push({ path, action: 'unchanged', reason: `new in ${to}, and you already have the same file` });
      else if (isBinary(o.content) || isBinary(t.content))
        plan.push({ path, action: 'conflict', reason: `new in ${to}, but you already have a different file there (binary): kept yours`, conflicts: 1 });
      else {
        const m = mergeFile(o.content, Buffer.alloc(0), t.content, labels(path));
        plan.push(
          m.conflicts === 0
            ? { path, action: 'merge', reason: `new in ${to}; merged with the file you already had there`, result: { content: m.content, mode: o.mode } }
            : {
                path,
                action: 'conflict',
                reason: `new in ${to}, but you already have a different file there: both versions kept between conflict markers`,
                result: { content: m.content, mode: o.mode },
                conflicts: m.conflicts,
              },
        );
      }
      continue;
    }
    if (b && !t) {
      if (!o) continue; // gone on both sides
      if (sameFile(o, b)) plan.push({ path, action: 'delete', reason: `removed in ${to}; you had not edited it: deleted` });
      else plan.push({ path, action: 'keep', reason: `removed in ${to}, but you edited it: kept (it is yours now; say so in ownedPaths)` });
    }
  }
  return plan;
}

/** The file changes that carry out `plan` (the answers file is not among them: it is written last). */
export function planChanges(plan: readonly FilePlan[]): Change[] {
  const changes: Change[] = [];
  for (const p of plan) {
    if (p.result && (p.action === 'update' || p.action === 'add' || p.action === 'merge' || p.action === 'conflict'))
      changes.push({ path: p.path, file: p.result });
    if (p.action === 'delete') changes.push({ path: p.path, delete: true });
  }
  return changes;
}
