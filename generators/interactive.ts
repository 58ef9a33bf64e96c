/**
 * The interactive path (a TTY, no CI, no --yes): clack prompts driven by the
 * options schema, then the writing and post-generation steps with progress.
 * Imported lazily by create.ts and generate.ts. Ctrl-C anywhere -> "cancelled",
 * exit 130, nothing written.
 */
import { resolve } from 'node:path';
import * as p from '@clack/prompts';
import {
  checkValue,
  defaultFor,
  OPTION_KEYS,
  type OptionKey,
  optionSpec,
  type PartialAnswers,
  type ResolvedAnswers,
  RULES,
  resolveAnswers,
} from './app/options.js';
import type { RenderedTree } from './app/render.js';
import { writeTree } from './app/write.js';
import { checkTargetDir, type FileStatus } from './app/write-check.js';
import { askOption } from './ask-option.js';
import { Cancelled } from './errors.js';
import { displayDir, type Io } from './io.js';
import { gitStep, installStep, nextSteps, type StepResult } from './post.js';
import type { AnswerLayer, GenerateFlags, ProjectSpec } from './types.js';
import { VERSION } from './version.js';

interface PromptInput {
  layers: AnswerLayer[];
  flagValues: PartialAnswers;
  dirArg: string | undefined;
  force: boolean;
  io: Io;
  ownedPaths: string[] | undefined;
}

function cancelled(): never {
  p.cancel('cancelled');
  throw new Cancelled(true);
}

function guard<T>(v: T | symbol): Exclude<T, symbol> {
  if (p.isCancel(v)) cancelled();
  return v as Exclude<T, symbol>;
}

/** A problem with `value` for `key` given the answers so far (inline validation), else undefined. */
function problem(key: OptionKey, raw: string, sofar: PartialAnswers, extra: (v: string | number) => string | undefined): string | undefined {
  let value: string | number;
  try {
    value = checkValue(key, raw, optionSpec(key).flag);
  } catch (err) {
    return (err as Error).message.replace(/^[\w-]+: /, '');
  }
  const known = new Set([...(Object.keys(sofar) as OptionKey[]), key]);
  const trial: PartialAnswers = { ...sofar, [key]: value };
  for (const k of OPTION_KEYS) if (trial[k] === undefined) (trial as Record<string, unknown>)[k] = defaultFor(k, trial);
  for (const rule of RULES) {
    if (!rule.keys.every((k) => known.has(k))) continue;
    const reason = rule.check(trial as ResolvedAnswers);
    if (reason) return reason;
  }
  return extra(value);
}

export async function promptProject(input: PromptInput): Promise<ProjectSpec> {
  const { io, flagValues, dirArg, force } = input;
  const opts = { input: io.stdin as NodeJS.ReadStream, output: io.stdout as NodeJS.WriteStream };
  p.intro(`create-agent-service ${VERSION}`, opts);

  // suggestions: every layer merged (preset, DIR-derived name); flags are fixed
  const suggested: PartialAnswers = {};
  for (const l of input.layers) Object.assign(suggested, Object.fromEntries(Object.entries(l.values).filter(([, v]) => v !== undefined)));
  const fixed = new Set(Object.keys(flagValues) as OptionKey[]);

  const sofar: PartialAnswers = {};
  for (const key of OPTION_KEYS) {
    const spec = optionSpec(key);
    if (fixed.has(key)) {
      (sofar as Record<string, unknown>)[key] = flagValues[key];
      continue;
    }
    const initial = suggested[key] ?? (key === 'name' ? undefined : defaultFor(key, sofar));
    if (spec.ask && !spec.ask(sofar)) {
      if (initial !== undefined) (sofar as Record<string, unknown>)[key] = initial;
      continue;
    }
    const extra = (v: string | number): string | undefined => {
      if (key !== 'name' || dirArg !== undefined) return undefined;
      try {
        checkTargetDir(resolve(io.cwd, String(v)), `./${v}`, force);
      } catch (err) {
        return (err as Error).message;
      }
      return undefined;
    };
    const value = await askOption({
      key,
      initial,
      placeholder: key === 'name' ? 'my-agent' : undefined,
      validate: (raw) => problem(key, raw, sofar, extra),
      onCancel: cancelled,
      io: opts,
    });
    (sofar as Record<string, unknown>)[key] = value;
  }

  let answers: ResolvedAnswers;
  try {
    answers = resolveAnswers([{ values: sofar, origin: (k) => k }]);
  } catch (err) {
    p.cancel((err as Error).message);
    throw err;
  }
  const dir = resolve(io.cwd, dirArg ?? answers.name);
  checkTargetDir(dir, dirArg !== undefined ? 'DIR argument' : `./${answers.name}`, force);

  const width = Math.max(...OPTION_KEYS.map((k) => k.length));
  p.note(OPTION_KEYS.map((k) => `${k.padEnd(width)}  ${answers[k]}`).join('\n'), 'Summary', opts);
  const ok = guard(await p.confirm({ ...opts, message: `Generate ${answers.name} into ${dirArg ?? `./${answers.name}`}?`, initialValue: true }));
  if (!ok) {
    p.cancel('cancelled');
    throw new Cancelled(true);
  }
  return { answers, dir, ownedPaths: input.ownedPaths };
}

export async function writeInteractive(
  project: ProjectSpec,
  tree: RenderedTree,
  statuses: ReadonlyMap<string, FileStatus>,
  conflicts: string[],
  f: GenerateFlags,
): Promise<number> {
  const { io } = f;
  const opts = { input: io.stdin as NodeJS.ReadStream, output: io.stdout as NodeJS.WriteStream };
  const done: StepResult = { git: 'skipped', install: 'skipped' };
  const s = p.spinner(opts);
  s.start(`Writing ${tree.size} files`);
  try {
    writeTree(project.dir, tree, statuses);
  } catch (err) {
    s.error('Writing failed');
    throw err;
  }
  s.stop(`Wrote ${tree.size} files${conflicts.length ? ` (${conflicts.length} existing files overwritten: ${conflicts.join(', ')})` : ''}`);
  // Plain log lines, not clack's spinner: the spinner puts the terminal in raw mode and
  // exits 0 on Ctrl-C; here Ctrl-C reaches uv and this process as SIGINT, and
  // installStep ends the run as cancelled, saying what is left to do.
  const steps = [
    {
      title: 'git init + first commit',
      enabled: f.git,
      run: async () => {
        const [st, msg] = await gitStep(project, io.env);
        done.git = st;
        return [st, msg] as const;
      },
    },
    {
      title: 'uv sync',
      enabled: f.install,
      run: async () => {
        const [st, msg] = await installStep(project, io.env);
        done.install = st;
        return [st, msg] as const;
      },
    },
  ];
  for (const step of steps) {
    if (!step.enabled) continue;
    p.log.step(`${step.title} ...`, opts);
    let st: string;
    let msg: string;
    try {
      [st, msg] = await step.run();
    } catch (err) {
      if (err instanceof Cancelled) {
        p.cancel('cancelled', opts);
        throw new Cancelled(true, err.detail);
      }
      throw err;
    }
    if (st === 'done') p.log.success(msg, opts);
    else p.log.warn(msg, opts);
  }
  p.note(
    nextSteps(project, displayDir(io.cwd, project.dir), done)
      .split('\n')
      .slice(1)
      .map((l) => l.trim())
      .join('\n'),
    'Next steps',
    opts,
  );
  p.outro(`${project.answers.name} is ready`, opts);
  return 0;
}
