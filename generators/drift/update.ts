/**
 * `create-agent-service update [DIR] [--to VERSION] [--generator PATH] [--yes] [--dry-run] [--force]`
 *
 * Renders the recorded version's output (base) and the target version's (theirs,
 * default: the running one) for the project's answers, plans every generated file
 * (update-plan.ts), prints the plan (update-report.ts) and, unless --dry-run,
 * applies it (tree.ts); the answers file is rewritten last (new version, migrated
 * answers, your ownedPaths) once every file is written.
 * Exit 0 done (or nothing to do), 1 done with conflicts to resolve, 2 bad input or refused.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { ANSWERS_FILE } from '../app/answers-file.js';
import { UsageError } from '../app/errors.js';
import { isOptionKey, OPTION_KEYS, type OptionKey, type PartialAnswers, printable } from '../app/options.js';
import { parseCommandArgs } from '../args.js';
import type { Io } from '../io.js';
import { isVersion, VERSION } from '../version.js';
import { readProjectArg } from './answers.js';
import { applyChanges } from './tree.js';
import { planChanges, planUpdate } from './update-plan.js';
import { answerLines, planLines, planSummary } from './update-report.js';
import { resolveVersion } from './versions.js';

/** Uncommitted changes under `dir`, or undefined when it is not in a git work tree. */
function gitDirty(dir: string): string[] | undefined {
  const inside = spawnSync('git', ['-C', dir, 'rev-parse', '--is-inside-work-tree'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (inside.error || inside.status !== 0 || inside.stdout.trim() !== 'true') return undefined;
  const st = spawnSync('git', ['-C', dir, 'status', '--porcelain', '--', '.'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (st.status !== 0) return undefined;
  return st.stdout.split('\n').filter((l) => l.trim() !== '');
}

export interface UpdateIo extends Io {
  /** may ask for new options (on stderr) */
  interactive: boolean;
}

const UPDATE_OPTIONS = {
  to: { type: 'string' },
  generator: { type: 'string', multiple: true },
  yes: { type: 'boolean', short: 'y' },
  'dry-run': { type: 'boolean' },
  force: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function runUpdate(argv: string[], io: UpdateIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, UPDATE_OPTIONS, true, 'update');
  if (values.help) {
    io.stdout.write(UPDATE_HELP);
    return 0;
  }
  const toArg = values.to;
  const dryRun = values['dry-run'] === true;
  const { dir, shown, doc } = readProjectArg('update', positionals, io.cwd);
  const log = (line: string) => io.stderr.write(`${line}\n`);
  const out = (line: string) => io.stdout.write(`${line}\n`);
  if (toArg !== undefined && !isVersion(toArg)) throw new UsageError(`--to: "${printable(toArg)}" is not a version such as 0.2.0`);
  const to = toArg ?? VERSION;
  if (to === doc.generatorVersion) {
    out(`${shown} is already at create-agent-service ${to}: nothing to update (run check to see drift)`);
    return 0;
  }

  // refuse before any slow work: a dirty tree mixes your uncommitted edits with ours
  if (!values.force && !dryRun) {
    const dirty = gitDirty(dir);
    if (dirty === undefined)
      throw new UsageError(`${shown} is not in a git work tree: update cannot keep your edits reviewable; commit the project to git first, or pass --force`);
    if (dirty.length > 0) {
      const some = `${dirty
        .slice(0, 3)
        .map((l) => l.slice(3))
        .join(', ')}${dirty.length > 3 ? ', ...' : ''}`;
      throw new UsageError(
        `${shown} has uncommitted changes (${dirty.length}: ${some}); commit or stash them first so the update can be reviewed and undone, or pass --force`,
      );
    }
  }

  const resolveOpts = {
    generatorPaths: (values.generator ?? []).map((p) => resolve(io.cwd, p)),
    env: io.env,
    log,
    retry: `update ${shown}${toArg ? ` --to ${to}` : ''}`,
  };
  const from = resolveVersion(doc.generatorVersion, resolveOpts);
  const target = resolveVersion(to, resolveOpts);
  for (const g of [from, target]) if (!g.running) log(`using create-agent-service ${g.version} from ${g.where}`);

  const base = from.render(doc, false);

  // options the target version has that the answers file lacks: ask (running version, TTY) or default
  let given: PartialAnswers = {};
  if (target.running) {
    const missing = OPTION_KEYS.filter((k) => doc.answers[k] === undefined);
    if (missing.length > 0 && io.interactive && values.yes !== true) {
      const known: PartialAnswers = {};
      for (const [k, v] of Object.entries(doc.answers)) if (isOptionKey(k)) (known as Record<string, unknown>)[k] = v;
      const { askNewOptions } = await import('./ask.js');
      given = await askNewOptions(missing as OptionKey[], known, { stdin: io.stdin, stdout: io.stderr }, doc.generatorVersion, to);
    }
  }
  const theirs = target.render(doc, true, given);

  const plan = planUpdate(dir, { base: base.files, theirs: theirs.files, from: doc.generatorVersion, to }, doc.ownedPaths);

  out(`${dryRun ? 'plan for ' : ''}update of ${shown}: create-agent-service ${doc.generatorVersion} -> ${to}`);
  const defaultReason = values.yes ? ', --yes' : !target.running ? `, asked only when ${to} itself runs the update` : io.interactive ? '' : ', no terminal';
  for (const line of answerLines({
    given: Object.keys(given),
    defaulted: theirs.defaulted,
    defaultReason,
    dropped: theirs.dropped,
    answers: theirs.answers,
    recorded: doc.answers,
    to,
  }))
    out(line);
  for (const line of planLines(plan)) out(line);
  const summary = planSummary(plan) || 'no file changes';
  const conflicts = plan.filter((p) => p.action === 'conflict');
  const files = (n: number) => `${n} file${n === 1 ? '' : 's'}`;

  if (dryRun) {
    out(`dry run: ${summary}; nothing written (${ANSWERS_FILE} would record ${to})`);
    if (conflicts.length > 0) out(`${files(conflicts.length)} would have conflicts: ${conflicts.map((c) => c.path).join(', ')}`);
    return conflicts.length > 0 ? 1 : 0;
  }

  applyChanges(dir, planChanges(plan));
  // last: the answers file, only once every file is in place
  const answersFile = theirs.files.get(ANSWERS_FILE);
  if (!answersFile) throw new UsageError(`create-agent-service ${to} did not emit ${ANSWERS_FILE}`);
  applyChanges(dir, [{ path: ANSWERS_FILE, file: answersFile }]);

  out(`updated ${shown} to create-agent-service ${to}: ${summary}; ${ANSWERS_FILE} records ${to}`);
  if (conflicts.length > 0) {
    out(`${files(conflicts.length)} with conflicts to resolve (search for <<<<<<<), then commit:`);
    for (const c of conflicts) out(`  ${c.path}`);
    return 1;
  }
  out('review with git diff, then commit');
  return 0;
}

const UPDATE_HELP = `Usage: create-agent-service update [DIR] [--to VERSION] [--generator PATH] [--yes] [--dry-run] [--force]

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
