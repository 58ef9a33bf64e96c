/**
 * The create command: flags -> answers -> a ProjectSpec, then generate.ts.
 *
 * Answers come in layers, lowest precedence first: defaults < --preset < the
 * DIR-derived name < --answers < flags. Interactive (a TTY, no CI, no --yes, no
 * --answers): the layers only suggest, interactive.ts asks the rest.
 */
import { basename, resolve } from 'node:path';
import type { ParseArgsConfig } from 'node:util';
import { type ParsedFile, parseAnswersText } from './app/answers-file.js';
import { UsageError } from './app/errors.js';
import { checkValue, helpText, OPTION_KEYS, optionSpec, type PartialAnswers, PROCESS_OPTIONS, printable, resolveAnswers } from './app/options.js';
import { readBoundedText } from './app/read-file.js';
import { checkTargetDir } from './app/write-check.js';
import { parseCommandArgs } from './args.js';
import { type Io, isCi } from './io.js';
import type { AnswerLayer, ProjectSpec } from './types.js';
import { VERSION } from './version.js';

function flagOptions(): NonNullable<ParseArgsConfig['options']> {
  const options: NonNullable<ParseArgsConfig['options']> = {};
  for (const k of OPTION_KEYS) options[optionSpec(k).flag] = { type: 'string' };
  for (const o of PROCESS_OPTIONS) options[o.flag] = o.short ? { type: o.type, short: o.short } : { type: o.type };
  return options;
}

function readAnswersArg(path: string, io: Io, flag: string, complete: boolean): ParsedFile {
  const text = readBoundedText(resolve(io.cwd, path), `${flag} ${path}`);
  return parseAnswersText(text, path, complete);
}

export async function create(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, flagOptions(), true);
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

  const layers: AnswerLayer[] = [];
  let ownedPaths: string[] | undefined;
  let fromFile: ParsedFile | undefined;
  if (typeof values.preset === 'string') {
    const preset = readAnswersArg(values.preset, io, '--preset', false);
    layers.push({ values: preset.answers, origin: (k) => `${values.preset}: key "${k}"` });
    ownedPaths = preset.ownedPaths;
  }
  if (typeof values.answers === 'string') {
    fromFile = readAnswersArg(values.answers, io, '--answers', true);
    if (fromFile.generatorVersion !== VERSION)
      io.stderr.write(`warning: ${values.answers} was written by create-agent-service ${fromFile.generatorVersion}; generating with ${VERSION}\n`);
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

  let project: ProjectSpec;
  if (interactive) {
    const { promptProject } = await import('./interactive.js');
    project = await promptProject({ layers, flagValues, dirArg, force, io, ownedPaths });
  } else {
    const answers = resolveAnswers(layers);
    const dir = resolve(io.cwd, dirArg ?? answers.name);
    checkTargetDir(dir, dirArg !== undefined ? 'DIR argument' : `target directory ./${answers.name}`, force);
    project = { answers, dir, ownedPaths };
  }
  const { generate } = await import('./generate.js');
  return generate(project, {
    io,
    interactive,
    dryRun: values['dry-run'] === true,
    force,
    git: values['no-git'] !== true,
    install: values['no-install'] !== true,
  });
}
