/**
 * `create-agent-service update [DIR] [--to VERSION] [--generator PATH] [--yes] [--dry-run] [--force]`
 *
 * Three trees: base = what the recorded version emits for the saved answers,
 * ours = DIR as it is, theirs = what the target version (default: the running
 * one) emits for the answers migrated to it. Per generated file:
 *
 *   ours == base              -> take theirs            (update / add / delete)
 *   theirs == base            -> keep ours              (keep)
 *   both changed              -> git merge-file --diff3 (merge, or conflict with markers)
 *   removed upstream, edited  -> keep ours, reported
 *   deleted by you            -> left deleted, reported
 *
 * ownedPaths and the answers file are never merged; the answers file is rewritten
 * last (new version, migrated answers, your ownedPaths) once every file is written.
 * Exit 0 done (or nothing to do), 1 done with conflicts to resolve, 2 bad input or refused.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { OPTION_KEYS, UsageError, isOptionKey, printable, type OptionKey, type PartialAnswers } from '../app/options.js';
import type { RenderedFile } from '../app/render.js';
import { VERSION } from '../paths.js';
import { ANSWERS_FILE, readAnswersDoc } from './answers.js';
import { shownPath, type CheckIo } from './check.js';
import { resolveGenerator, type Generator } from './generator.js';
import { matchingGlob } from './glob.js';
import { mergeFile } from './merge.js';
import { isBinary } from './textdiff.js';
import { MODES_MATTER, applyChanges, execBit, readProjectFile, sameContent, sameFile, type Change, type DiskFile } from './tree.js';

/** Ctrl-C at a prompt: exit 130, nothing written. */
export class UpdateCancelled extends Error {}

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

const mergedMode = (o: RenderedFile, b: RenderedFile, t: RenderedFile): number =>
  !MODES_MATTER || execBit(o.mode) === execBit(b.mode) ? t.mode : o.mode;

/** Decide what to do with every generated path. Pure apart from reading DIR and running git merge-file. */
export function planUpdate(dir: string, trees: Trees, ownedPaths: readonly string[]): FilePlan[] {
  const { base, theirs, from, to } = trees;
  const paths = [...new Set([...base.keys(), ...theirs.keys()])].filter((p) => p !== ANSWERS_FILE).sort();
  const labels = (path: string) => ({ ours: `${path} (yours)`, base: `${path} (create-agent-service ${from})`, theirs: `${path} (create-agent-service ${to})` });
  const plans: FilePlan[] = [];
  for (const path of paths) {
    const glob = matchingGlob(path, ownedPaths);
    if (glob) {
      plans.push({ path, action: 'owned', reason: `yours by ownedPaths "${glob}": not touched` });
      continue;
    }
    const b = base.get(path);
    const t = theirs.get(path);
    const o: DiskFile | undefined = readProjectFile(dir, path);
    if (o?.special) {
      plans.push({ path, action: 'conflict', reason: `is ${o.special} in your project: left alone, merge ${to}'s version by hand`, conflicts: 1 });
      continue;
    }
    if (b && t) {
      if (!o) {
        plans.push(
          sameFile(b, t)
            ? { path, action: 'unchanged', reason: 'you deleted it; the template did not change it: left deleted' }
            : { path, action: 'keep', reason: `you deleted it; ${to} changes it: left deleted (see it with create-agent-service --dry-run, or restore it from a fresh generation)` },
        );
        continue;
      }
      if (sameFile(o, t)) {
        plans.push({ path, action: 'unchanged', reason: sameFile(b, t) ? 'as generated' : `already as in ${to}` });
        continue;
      }
      if (sameFile(o, b)) {
        plans.push({ path, action: 'update', reason: `changed by the template (${from} -> ${to}); you had not edited it: replaced`, result: t });
        continue;
      }
      if (sameFile(b, t)) {
        plans.push({ path, action: 'keep', reason: `you edited it; the template did not change it: kept yours` });
        continue;
      }
      // both changed (content and/or mode)
      const mode = mergedMode(o, b, t);
      if (sameContent(o, t) || sameContent(b, t)) {
        plans.push({ path, action: 'merge', reason: `you and the template changed it (content/mode): combined, no conflict`, result: { content: o.content, mode } });
        continue;
      }
      if (sameContent(o, b)) {
        plans.push({ path, action: 'merge', reason: `the template changed its content, you changed its mode: combined, no conflict`, result: { content: t.content, mode } });
        continue;
      }
      if (isBinary(o.content) || isBinary(b.content) || isBinary(t.content)) {
        plans.push({ path, action: 'conflict', reason: `binary, changed by you and by the template: kept yours, ${to}'s version not applied`, conflicts: 1 });
        continue;
      }
      const m = mergeFile(o.content, b.content, t.content, labels(path));
      plans.push(
        m.conflicts === 0
          ? { path, action: 'merge', reason: `you and the template (${from} -> ${to}) both changed it: merged line by line, no conflict`, result: { content: m.content, mode } }
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
      if (!o) plans.push({ path, action: 'add', reason: `new in ${to}`, result: t });
      else if (sameFile(o, t)) plans.push({ path, action: 'unchanged', reason: `new in ${to}, and you already have the same file` });
      else if (isBinary(o.content) || isBinary(t.content))
        plans.push({ path, action: 'conflict', reason: `new in ${to}, but you already have a different file there (binary): kept yours`, conflicts: 1 });
      else {
        const m = mergeFile(o.content, Buffer.alloc(0), t.content, labels(path));
        plans.push(
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
      if (sameFile(o, b)) plans.push({ path, action: 'delete', reason: `removed in ${to}; you had not edited it: deleted` });
      else plans.push({ path, action: 'keep', reason: `removed in ${to}, but you edited it: kept (it is yours now; say so in ownedPaths)` });
    }
  }
  return plans;
}

/** Uncommitted changes under `dir`, or undefined when it is not in a git work tree. */
export function gitDirty(dir: string): string[] | undefined {
  const inside = spawnSync('git', ['-C', dir, 'rev-parse', '--is-inside-work-tree'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (inside.error || inside.status !== 0 || inside.stdout.trim() !== 'true') return undefined;
  const st = spawnSync('git', ['-C', dir, 'status', '--porcelain', '--', '.'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (st.status !== 0) return undefined;
  return st.stdout.split('\n').filter((l) => l.trim() !== '');
}

export interface UpdateIo extends CheckIo {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  interactive: boolean;
}

const SYMBOL: Record<Action, string> = {
  update: 'update',
  keep: 'keep',
  merge: 'merge',
  conflict: 'CONFLICT',
  add: 'add',
  delete: 'delete',
  unchanged: 'same',
  owned: 'owned',
};

export async function runUpdate(argv: string[], io: UpdateIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        to: { type: 'string' },
        generator: { type: 'string', multiple: true },
        yes: { type: 'boolean', short: 'y' },
        'dry-run': { type: 'boolean' },
        force: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    throw new UsageError(`update: ${(err as Error).message.split('\n')[0]}`);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout.write(UPDATE_HELP);
    return 0;
  }
  if (positionals.length > 1) throw new UsageError(`update: unexpected argument "${printable(positionals[1]!)}": give one DIR`);
  const dryRun = values['dry-run'] === true;
  const dir = resolve(io.cwd, positionals[0] ?? '.');
  const shown = shownPath(io.cwd, dir);
  const doc = readAnswersDoc(dir, shown);
  const log = (line: string) => io.stderr.write(`${line}\n`);
  const out = (line: string) => io.stdout.write(`${line}\n`);
  const to = values.to ?? VERSION;
  if (values.to !== undefined && !/^\d+\.\d+\.\d+([-+][0-9A-Za-z.+-]+)?$/.test(values.to)) throw new UsageError(`--to: "${printable(values.to)}" is not a version such as 0.2.0`);
  if (to === doc.generatorVersion) {
    out(`${shown} is already at create-agent-service ${to}: nothing to update (run check to see drift)`);
    return 0;
  }

  // refuse before any slow work: a dirty tree mixes your uncommitted edits with ours
  if (!values.force && !dryRun) {
    const dirty = gitDirty(dir);
    if (dirty === undefined)
      throw new UsageError(`${shown} is not in a git work tree: update cannot keep your edits reviewable; commit the project to git first, or pass --force`);
    if (dirty.length > 0)
      throw new UsageError(
        `${shown} has uncommitted changes (${dirty.length}: ${dirty.slice(0, 3).map((l) => l.slice(3)).join(', ')}${dirty.length > 3 ? ', ...' : ''}); commit or stash them first so the update can be reviewed and undone, or pass --force`,
      );
  }

  const resolveOpts = { generatorPaths: (values.generator ?? []).map((p) => resolve(io.cwd, p)), env: io.env, log, retry: `update ${shown}${values.to ? ` --to ${to}` : ''}` };
  const oldGen: Generator = resolveGenerator(doc.generatorVersion, resolveOpts);
  const newGen: Generator = resolveGenerator(to, resolveOpts);
  for (const g of [oldGen, newGen]) if (!g.running) log(`using create-agent-service ${g.version} from ${g.where}`);

  const base = oldGen.render(doc, false);

  // options the target version has that the answers file lacks: ask (running version, TTY) or default
  let given: PartialAnswers = {};
  if (newGen.running) {
    const missing = OPTION_KEYS.filter((k) => doc.answers[k] === undefined);
    if (missing.length > 0 && io.interactive && values.yes !== true) {
      const known: PartialAnswers = {};
      for (const [k, v] of Object.entries(doc.answers)) if (isOptionKey(k)) (known as Record<string, unknown>)[k] = v;
      const { askNewOptions } = await import('./ask.js');
      given = await askNewOptions(missing as OptionKey[], known, { stdin: io.stdin, stdout: io.stderr }, doc.generatorVersion, to);
    }
  }
  const theirs = newGen.render(doc, true, given);

  const plans = planUpdate(dir, { base: base.files, theirs: theirs.files, from: doc.generatorVersion, to }, doc.ownedPaths);

  // explain
  out(`${dryRun ? 'plan for ' : ''}update of ${shown}: create-agent-service ${doc.generatorVersion} -> ${to}`);
  for (const k of Object.keys(given)) out(`  answer   ${k} = ${JSON.stringify(theirs.answers[k])} (new option in ${to}; your answer)`);
  for (const k of theirs.defaulted) out(`  answer   ${k} = ${JSON.stringify(theirs.answers[k])} (new option in ${to}; default${values.yes ? ', --yes' : !newGen.running ? `, asked only when ${to} itself runs the update` : io.interactive ? '' : ', no terminal'})`);
  for (const k of theirs.dropped) out(`  answer   ${k} dropped (${to} no longer has this option; was ${JSON.stringify(doc.answers[k])})`);
  const shownPlans = plans.filter((p) => p.action !== 'unchanged' && p.action !== 'owned');
  const width = Math.max(8, ...shownPlans.map((p) => p.path.length));
  for (const p of shownPlans) out(`  ${SYMBOL[p.action].padEnd(8)} ${p.path.padEnd(width)}  ${p.reason}`);
  const count = (a: Action) => plans.filter((p) => p.action === a).length;
  const summary = (['update', 'add', 'delete', 'merge', 'conflict', 'keep', 'owned', 'unchanged'] as Action[])
    .filter((a) => count(a) > 0)
    .map((a) => `${count(a)} ${a === 'unchanged' ? 'unchanged' : a === 'owned' ? 'owned (ownedPaths)' : a === 'keep' ? 'kept' : a === 'conflict' ? `conflict${count(a) === 1 ? '' : 's'}` : a === 'merge' ? 'merged' : a === 'add' ? 'added' : a === 'delete' ? 'deleted' : 'updated'}`)
    .join(', ');
  const conflicts = plans.filter((p) => p.action === 'conflict');

  if (dryRun) {
    out(`dry run: ${summary || 'no file changes'}; nothing written (${ANSWERS_FILE} would record ${to})`);
    if (conflicts.length > 0) out(`${conflicts.length} file${conflicts.length === 1 ? '' : 's'} would have conflicts: ${conflicts.map((c) => c.path).join(', ')}`);
    return conflicts.length > 0 ? 1 : 0;
  }

  const changes: Change[] = [];
  for (const p of plans) {
    if (p.result && (p.action === 'update' || p.action === 'add' || p.action === 'merge' || p.action === 'conflict')) changes.push({ path: p.path, file: p.result });
    if (p.action === 'delete') changes.push({ path: p.path, delete: true });
  }
  applyChanges(dir, changes);
  // last: the answers file, only once every file is in place
  const answersFile = theirs.files.get(ANSWERS_FILE);
  if (!answersFile) throw new UsageError(`create-agent-service ${to} did not emit ${ANSWERS_FILE}`);
  applyChanges(dir, [{ path: ANSWERS_FILE, file: answersFile }]);

  out(`updated ${shown} to create-agent-service ${to}: ${summary || 'no file changes'}; ${ANSWERS_FILE} records ${to}`);
  if (conflicts.length > 0) {
    out(`${conflicts.length} file${conflicts.length === 1 ? '' : 's'} with conflicts to resolve (search for <<<<<<<), then commit:`);
    for (const c of conflicts) out(`  ${c.path}`);
    return 1;
  }
  out('review with git diff, then commit');
  return 0;
}

export const UPDATE_HELP = `Usage: create-agent-service update [DIR] [--to VERSION] [--generator PATH] [--yes] [--dry-run] [--force]

Update DIR (default .) from the generator version recorded in DIR/${ANSWERS_FILE} to
--to VERSION (default: this one, ${VERSION}) with a 3-way merge: files only the template
changed are updated, files only you changed are kept, files both changed are merged
line by line (git merge-file); true conflicts get <<<<<<< markers and exit 1.

  --to VERSION       target version (another version is taken from --generator, the cache or npm)
  --generator PATH   an installed copy (directory) or npm pack .tgz of the old or target
                     version (may be repeated)
  --yes              new options take their defaults instead of being asked
  --dry-run          print the plan per file; write nothing
  --force            run on a dirty git tree (or outside git)

The README of every generated project explains .agent-service.json, check and update
(section "Staying in sync with the generator").
`;
