/**
 * create-agent-service [DIR] [options] | check [DIR] | update [DIR]
 *
 * Startup cost matters (time to first prompt <= 150 ms): this module imports
 * only node builtins and the options schema; the renderer, yeoman, clack and
 * the post-generation steps are imported on the path that needs them.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, relative, resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import {
  OPTION_KEYS,
  PROCESS_OPTIONS,
  UsageError,
  checkValue,
  helpText,
  optionSpec,
  printable,
  resolveAnswers,
  type OptionKey,
  type PartialAnswers,
  type ResolvedAnswers,
} from './app/options.js';
import { parseAnswersText, type ParsedFile } from './app/answers-file.js';
import { readBoundedText } from './app/read-file.js';
import { PACKAGE_ROOT, TEMPLATES_DIR, USE_TEMPLATE_PACK, VERSION } from './paths.js';

export interface Io {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  cwd: string;
}

const defaultIo = (): Io => ({ stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env, cwd: process.cwd() });

/** Exit code used when the user cancels (Ctrl-C), as a shell would report SIGINT. */
export const EXIT_CANCELLED = 130;

export class Cancelled extends Error {
  constructor(
    /** The interactive UI already said "cancelled". */
    readonly shown = false,
    /** One more line for the user: what the cancelled run left behind. */
    readonly detail?: string,
  ) {
    super('cancelled');
  }
}

function parseConfig(): ParseArgsConfig['options'] {
  const options: NonNullable<ParseArgsConfig['options']> = {};
  for (const k of OPTION_KEYS) options[optionSpec(k).flag] = { type: 'string' };
  for (const o of PROCESS_OPTIONS) options[o.flag] = o.short ? { type: o.type, short: o.short } : { type: o.type };
  return options;
}

function parseArgError(err: Error & { code?: string }): UsageError {
  const m = err.message;
  const unknown = /Unknown option '([^']+)'/.exec(m);
  if (unknown) return new UsageError(`unknown option ${unknown[1]} (see --help)`);
  const missing = /Option '(?:-\w, )?(--[\w-]+)[^']*' argument missing/.exec(m);
  if (missing) return new UsageError(`${missing[1]}: a value is required`);
  const ambiguous = /Option '(?:-\w, )?(--[\w-]+)' argument is ambiguous/.exec(m);
  if (ambiguous) return new UsageError(`${ambiguous[1]}: a value is required (for a value starting with "-", write ${ambiguous[1]}=VALUE)`);
  const noValue = /Option '(?:-\w, )?(--[\w-]+)' does not take an argument/.exec(m);
  if (noValue) return new UsageError(`${noValue[1]}: takes no value`);
  return new UsageError(m.split('\n')[0]!);
}

export interface Plan {
  answers: ResolvedAnswers;
  dir: string;
  /** undefined: the defaults (DEFAULT_OWNED_PATHS) */
  ownedPaths: string[] | undefined;
}

function readJsonFile(path: string, io: Io, flag: string, complete: boolean): ParsedFile {
  const text = readBoundedText(resolve(io.cwd, path), `${flag} ${path}`);
  return parseAnswersText(text, path, complete);
}

/** Refuse a DIR we must not write into. */
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
  const st = statSync(dir);
  if (!st.isDirectory()) throw new UsageError(`${label}: ${dir} exists and is not a directory`);
  if (!force && readdirSync(dir).length > 0)
    throw new UsageError(`${label}: ${dir} is not empty (pass --force to write into it; files we do not generate are never touched)`);
}

const isCi = (env: NodeJS.ProcessEnv): boolean => {
  const v = env.CI;
  return v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
};

export function displayDir(io: Io, dir: string): string {
  const rel = relative(io.cwd, dir);
  return rel === '' ? '.' : rel.startsWith('..') ? dir : rel;
}

export async function main(argv: string[] = process.argv.slice(2), io: Io = defaultIo()): Promise<number> {
  try {
    // hidden, stable machine interface for check/update of other versions (generators/drift/render-command.ts)
    if (argv[0] === '__render') return await (await import('./drift/render-command.js')).run(argv.slice(1));
    if (argv[0] === 'check' || argv[0] === 'update') {
      const mod = argv[0] === 'check' ? await import('./check.js') : await import('./update.js');
      return await mod.run(argv.slice(1));
    }
    return await create(argv, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`error: ${err.message}\n`);
      return err.exitCode;
    }
    if (err instanceof Cancelled) {
      if (!err.shown) io.stderr.write('cancelled\n');
      if (err.detail) io.stderr.write(`${err.detail}\n`);
      return EXIT_CANCELLED;
    }
    const e = err as Error;
    io.stderr.write(`error: ${e.name === 'RenderError' ? '' : 'unexpected failure: '}${e.message}\n`);
    if (io.env.DEBUG) io.stderr.write(`${e.stack}\n`);
    return 1;
  }
}

async function create(argv: string[], io: Io): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: parseConfig(), allowPositionals: true, strict: true });
  } catch (err) {
    throw parseArgError(err as Error);
  }
  const { values, positionals } = parsed as { values: Record<string, string | boolean | undefined>; positionals: string[] };
  if (values.help) {
    io.stdout.write(helpText(VERSION));
    return 0;
  }
  if (values.version) {
    io.stdout.write(`${VERSION}\n`);
    return 0;
  }
  if (positionals.length > 1) throw new UsageError(`unexpected argument "${printable(positionals[1]!)}": give one DIR (see --help)`);
  if (values.answers !== undefined && values.preset !== undefined)
    throw new UsageError('--answers and --preset cannot be combined: --answers replays a complete answers file');

  // sources, lowest precedence first: defaults < preset < DIR-derived name < answers file < flags
  const layers: { values: PartialAnswers; origin: (k: OptionKey) => string }[] = [];
  let ownedPaths: string[] | undefined;
  let fromFile: ParsedFile | undefined;
  if (typeof values.preset === 'string') {
    const preset = readJsonFile(values.preset, io, '--preset', false);
    layers.push({ values: preset.answers, origin: (k) => `${values.preset}: key "${k}"` });
    ownedPaths = preset.ownedPaths;
  }
  if (typeof values.answers === 'string') {
    fromFile = readJsonFile(values.answers, io, '--answers', true);
    if (fromFile.generatorVersion !== VERSION)
      io.stderr.write(
        `warning: ${values.answers} was written by create-agent-service ${fromFile.generatorVersion}; generating with ${VERSION}\n`,
      );
    ownedPaths = fromFile.ownedPaths ?? [];
  }
  const flagValues: PartialAnswers = {};
  for (const k of OPTION_KEYS) {
    const v = values[optionSpec(k).flag];
    if (typeof v === 'string') (flagValues as Record<string, unknown>)[k] = checkValue(k, v, `--${optionSpec(k).flag}`);
  }
  const dirArg = positionals[0];
  if (dirArg !== undefined && dirArg.trim() === '') throw new UsageError('DIR argument: must not be empty');
  if (dirArg !== undefined && flagValues.name === undefined && fromFile?.answers.name === undefined) {
    const base = basename(resolve(io.cwd, dirArg));
    const presetName = layers[0]?.values.name;
    if (presetName !== undefined && presetName !== base)
      throw new UsageError(
        `${values.preset}: key "name" is "${presetName}" but DIR argument "${printable(dirArg)}" names the service "${printable(base)}": pass --name to choose, or remove "name" from the preset`,
      );
    layers.push({ values: { name: base }, origin: () => `DIR argument "${printable(dirArg)}" (its basename is the service name unless --name is given)` });
  }
  if (fromFile) layers.push({ values: fromFile.answers, origin: (k) => `${values.answers}: key "${k}"` });
  layers.push({ values: flagValues, origin: (k) => `--${optionSpec(k).flag}` });

  const force = values.force === true;
  const interactive = io.stdin.isTTY === true && io.stdout.isTTY === true && !isCi(io.env) && values.yes !== true && fromFile === undefined;

  // before any question: a DIR we cannot write into is known now
  if (dirArg !== undefined) checkTargetDir(resolve(io.cwd, dirArg), 'DIR argument', force);

  let plan: Plan;
  if (interactive) {
    const { promptPlan } = await import('./interactive.js');
    plan = await promptPlan({ layers, flagValues, fromFile, dirArg, force, io, ownedPaths });
  } else {
    const answers = resolveAnswers(layers);
    const dir = resolve(io.cwd, dirArg ?? answers.name);
    checkTargetDir(dir, dirArg !== undefined ? 'DIR argument' : `target directory ./${answers.name}`, force);
    plan = { answers, dir, ownedPaths };
  }
  return generate(plan, { io, interactive, dryRun: values['dry-run'] === true, force, git: values['no-git'] !== true, install: values['no-install'] !== true });
}

export interface GenerateFlags {
  io: Io;
  interactive: boolean;
  dryRun: boolean;
  force: boolean;
  git: boolean;
  install: boolean;
}

async function generate(plan: Plan, f: GenerateFlags): Promise<number> {
  const { io } = f;
  const { render } = await import('./app/render.js');
  const { loadPack } = await import('./app/pack.js');
  const pack = USE_TEMPLATE_PACK ? loadPack(PACKAGE_ROOT) : undefined;
  const tree = render(plan.answers, { templatesDir: TEMPLATES_DIR, generatorVersion: VERSION, ownedPaths: plan.ownedPaths, pack });
  const { planWrite } = await import('./app/plan.js');
  const status = planWrite(plan.dir, tree, (p) => readFileSync(p));
  const shown = displayDir(io, plan.dir);

  if (f.dryRun) {
    const width = Math.max(...[...tree.values()].map((x) => String(x.content.length).length));
    let total = 0;
    for (const [rel, file] of tree) {
      total += file.content.length;
      const st = status.get(rel);
      const note = st === 'conflict' ? '  (conflict: exists and differs)' : st === 'identical' ? '  (identical)' : '';
      io.stdout.write(`${String(file.content.length).padStart(width)}  ${rel}${file.mode & 0o111 ? '  (executable)' : ''}${note}\n`);
    }
    io.stdout.write(`dry run: ${tree.size} files, ${total} bytes would be written to ${shown}; nothing written\n`);
    return 0;
  }

  const conflicts = [...status].filter(([, s]) => s === 'conflict').map(([p]) => p);
  if (conflicts.length > 0 && !f.force) throw new UsageError(`${shown}: ${conflicts.length} generated files already exist (pass --force to overwrite)`);

  if (f.interactive) {
    const { writeInteractive } = await import('./interactive.js');
    return writeInteractive(plan, tree, conflicts, f);
  }
  const { commitTree } = await import('./app/write.js');
  await commitTree(plan.dir, tree);
  for (const c of conflicts) io.stderr.write(`conflict: ${c} existed and differed; overwritten (--force)\n`);
  io.stdout.write(`created ${plan.answers.name} in ${shown}: ${tree.size} files\n`);
  const { postGenerate, nextSteps } = await import('./post.js');
  const done = await postGenerate(plan, f, (line) => io.stdout.write(`${line}\n`));
  io.stdout.write(`\n${nextSteps(plan, shown, done)}\n`);
  return 0;
}
