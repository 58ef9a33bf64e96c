/**
 * `create-agent-service check [DIR] [--json] [--generator PATH]`
 *
 * Regenerates DIR from its answers file with the generator version recorded
 * there (in memory), compares with DIR and reports drift. Exit 0 identical,
 * 1 drift (a git-style diff per file on stdout, or --json), 2 bad input.
 *
 * Compared: every file the recorded version emits for the saved answers, except
 * the answers file itself and paths matching ownedPaths ("modified", "removed"),
 * and files at paths only other answers would emit ("added": e.g. a redis store
 * module in a project whose answers say memory). Any other file (your code, .git,
 * .venv, node_modules, caches) is never looked at.
 */
import { resolve } from 'node:path';
import { ANSWERS_FILE } from '../app/answers-file.js';
import { UsageError } from '../app/errors.js';
import type { RenderedTree } from '../app/render.js';
import { parseCommandArgs } from '../args.js';
import type { Io } from '../io.js';
import { VERSION } from '../version.js';
import { readProjectArg } from './answers.js';
import { matchingGlob } from './glob.js';
import { fileDiff } from './textdiff.js';
import { type DiskFile, execBit, MODES_MATTER, readProjectFile, sameFile } from './tree.js';
import { resolveVersion } from './versions.js';

export type DriftStatus = 'modified' | 'removed' | 'added';

export interface Drift {
  file: string;
  status: DriftStatus;
  /** number of unified-diff hunks (1 for a binary or type change, 0 for a mode-only change) */
  hunks: number;
  /** present when the executable bit differs */
  mode?: { expected: string; actual: string };
  diff: string;
}

export interface DriftReport {
  drift: Drift[];
  compared: number;
  owned: string[];
}

/** Compare `expected` (generator output) with the project in `dir`. */
function computeDrift(dir: string, expected: RenderedTree, ownedPaths: readonly string[], otherPaths: readonly string[] = []): DriftReport {
  const drift: Drift[] = [];
  const owned: string[] = [];
  let compared = 0;
  for (const [path, want] of expected) {
    if (path === ANSWERS_FILE) continue;
    if (matchingGlob(path, ownedPaths)) {
      owned.push(path);
      continue;
    }
    compared++;
    const have: DiskFile | undefined = readProjectFile(dir, path);
    if (sameFile(want, have)) continue;
    if (!have) {
      const d = fileDiff(path, want, undefined);
      drift.push({ file: path, status: 'removed', hunks: d.hunks, diff: d.text });
      continue;
    }
    const d = fileDiff(path, want, have);
    const entry: Drift = { file: path, status: 'modified', hunks: d.hunks, diff: d.text };
    if (have.special) {
      entry.diff = `diff --git a/${path} b/${path}\n# ${path} is ${have.special} in the project, a regular file in the generator's output\n`;
      entry.hunks = 1;
    }
    if (MODES_MATTER && execBit(want.mode) !== execBit(have.mode))
      entry.mode = { expected: execBit(want.mode).toString(8), actual: execBit(have.mode).toString(8) };
    drift.push(entry);
  }
  // generator files these answers do not call for (e.g. another store's module copied in by hand)
  for (const path of otherPaths) {
    if (expected.has(path) || path === ANSWERS_FILE || matchingGlob(path, ownedPaths)) continue;
    const have = readProjectFile(dir, path);
    if (!have || have.special) continue;
    const d = fileDiff(path, undefined, have);
    drift.push({ file: path, status: 'added', hunks: d.hunks, diff: d.text });
  }
  drift.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  return { drift, compared, owned };
}

export type CheckIo = Pick<Io, 'stdout' | 'stderr' | 'cwd' | 'env'>;

const CHECK_OPTIONS = { json: { type: 'boolean' }, generator: { type: 'string', multiple: true }, help: { type: 'boolean', short: 'h' } } as const;

export async function runCheck(argv: string[], io: CheckIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, CHECK_OPTIONS, true, 'check');
  if (values.help) {
    io.stdout.write(CHECK_HELP);
    return 0;
  }
  if (!values.json) return compare(values, positionals, io);
  try {
    return await compare(values, positionals, io);
  } catch (err) {
    // --json: a caller parsing stdout gets an object on failure too (the one line stays on stderr)
    if (err instanceof UsageError) io.stdout.write(`${JSON.stringify({ error: { message: err.message, exitCode: err.exitCode } }, null, 2)}\n`);
    throw err;
  }
}

async function compare(values: { json?: boolean; generator?: string[] }, positionals: string[], io: CheckIo): Promise<number> {
  const { dir, shown, doc } = readProjectArg('check', positionals, io.cwd);
  const log = (line: string) => io.stderr.write(`${line}\n`);
  const gen = resolveVersion(doc.generatorVersion, {
    generatorPaths: (values.generator ?? []).map((p) => resolve(io.cwd, p)),
    env: io.env,
    log,
    retry: `check ${shown}`,
    suggestDirect: true,
  });
  if (!gen.running)
    log(
      `${doc.where} records create-agent-service ${doc.generatorVersion}; this is ${VERSION}: comparing with ${doc.generatorVersion}'s output (${gen.where})`,
    );
  const rendered = gen.render(doc, false);
  const report = computeDrift(dir, rendered.files, doc.ownedPaths, rendered.otherPaths);
  const { drift } = report;
  if (values.json) {
    const out = {
      dir: shown,
      generatorVersion: doc.generatorVersion,
      runningVersion: VERSION,
      clean: drift.length === 0,
      compared: report.compared,
      skipped: { owned: report.owned, ownedPaths: doc.ownedPaths },
      files: drift.map((d) => ({ file: d.file, status: d.status, hunks: d.hunks, ...(d.mode ? { mode: d.mode } : {}) })),
    };
    io.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } else {
    for (const d of drift) io.stdout.write(d.diff);
  }
  const owned = report.owned.length ? `; ${report.owned.length} owned by the team (ownedPaths) skipped` : '';
  if (drift.length === 0) {
    log(`no drift: ${report.compared} generated files in ${shown} match create-agent-service ${doc.generatorVersion}${owned}`);
    return 0;
  }
  const counts = (['modified', 'removed', 'added'] as const)
    .map((s) => [s, drift.filter((d) => d.status === s).length] as const)
    .filter(([, n]) => n > 0)
    .map(([s, n]) => `${n} ${s}`)
    .join(', ');
  log(
    [
      `drift: ${drift.length} of ${report.compared} generated files in ${shown} differ from create-agent-service ${doc.generatorVersion}'s output (${counts})${owned}:`,
      ...drift.map((d) => `  ${d.status.padEnd(8)} ${d.file}${d.mode ? ` (mode ${d.mode.expected} -> ${d.mode.actual})` : ''}`),
      `Either restore the generated content (${values.json ? 'run check without --json for the diff, then apply it reversed: git apply -R' : 'the diff above, reversed: git apply -R'}), or declare the paths as yours in ${ANSWERS_FILE} "ownedPaths".`,
    ].join('\n'),
  );
  return 1;
}

const CHECK_HELP = `Usage: create-agent-service check [DIR] [--json] [--generator PATH]

Regenerate DIR (default .) in memory from DIR/${ANSWERS_FILE} with the generator
version recorded there and compare. Exit 0: identical; 1: drift (a git-style diff
per file on stdout, a summary on stderr); 2: bad input.

  --json             machine output on stdout: {clean, files: [{file, status, hunks}], ...}
  --generator PATH   an installed copy (directory) or npm pack .tgz of the recorded
                     version, when it is not the running one (may be repeated)

Skipped: the answers file, paths matching its "ownedPaths" globs, and every file the
generator does not emit.
The README of every generated project explains .agent-service.json, check and update
(section "Staying in sync with the generator").
`;
